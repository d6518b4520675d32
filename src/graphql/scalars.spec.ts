import { graphql, GraphQLObjectType, GraphQLSchema } from 'graphql';
import { Base64Scalar, JSONScalar } from './scalars';
import { payloadJson, payloadText } from './payload';

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      echo: { type: JSONScalar, args: { v: { type: JSONScalar } }, resolve: (_, { v }) => v as unknown },
      bytes: {
        type: Base64Scalar,
        args: { v: { type: Base64Scalar } },
        resolve: (_, { v }) => v as Buffer,
      },
    },
  }),
});

describe('JSON scalar', () => {
  it('takes any JSON value as a literal or a variable', async () => {
    const res = await graphql({
      schema,
      source: '{ echo(v: {a: [1, 2.5, "x", true, null, {b: $x}]}) }'.replace('$x', '1'),
    });
    expect(res.data).toEqual({ echo: { a: [1, 2.5, 'x', true, null, { b: 1 }] } });
    const vars = await graphql({
      schema,
      source: 'query ($v: JSON) { echo(v: {nested: $v}) }',
      variableValues: { v: { deep: [1] } },
    });
    expect(vars.data).toEqual({ echo: { nested: { deep: [1] } } });
  });

  it('refuses enum literals', async () => {
    const res = await graphql({ schema, source: '{ echo(v: RED) }' });
    expect(res.errors?.[0].message).toMatch(/enum/);
  });
});

describe('Base64 scalar', () => {
  it('writes bytes as padded base64 and reads it back', async () => {
    const res = await graphql({ schema, source: '{ bytes(v: "/wE=") }' });
    expect(res.data).toEqual({ bytes: '/wE=' });
  });

  it('refuses text that is not base64', async () => {
    for (const v of ['"not base64!"', '"/wE"', '5']) {
      const res = await graphql({ schema, source: `{ bytes(v: ${v}) }` });
      expect(res.errors).toHaveLength(1);
    }
  });
});

describe('payload decoding', () => {
  it('reads UTF-8 text and JSON, null when the bytes are neither', () => {
    expect(payloadText(Buffer.from('héllo'))).toBe('héllo');
    expect(payloadText(Buffer.from([0xff, 0xfe]))).toBeNull();
    expect(payloadJson(Buffer.from('{"a":[1]}'))).toEqual({ a: [1] });
    expect(payloadJson(Buffer.from('hello'))).toBeNull();
    expect(payloadJson(Buffer.from([0xff]))).toBeNull();
  });
});
