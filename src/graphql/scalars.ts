import { GraphQLError, GraphQLScalarType, Kind, ValueNode } from 'graphql';

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

function literalToJson(node: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map((v) => literalToJson(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literalToJson(f.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[node.name.value];
    case Kind.ENUM:
      throw badInput(`JSON cannot represent the enum value ${node.value}`);
  }
}

/** Any JSON value: stream and device metadata, payloads parsed as JSON. */
export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value (object, array, string, number, boolean or null).',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: literalToJson,
});

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Bytes, written as standard base64 (RFC 4648 with padding). */
export const Base64Scalar = new GraphQLScalarType<Buffer, string>({
  name: 'Base64',
  description: 'Binary data as standard base64 (RFC 4648, padded).',
  serialize: (value) => {
    if (Buffer.isBuffer(value)) return value.toString('base64');
    if (typeof value === 'string') return Buffer.from(value).toString('base64');
    throw new GraphQLError('Base64 can only serialize bytes');
  },
  parseValue: (value) => {
    if (typeof value !== 'string' || !BASE64.test(value)) throw badInput('Base64 expects a padded base64 string');
    return Buffer.from(value, 'base64');
  },
  parseLiteral: (node) => {
    if (node.kind !== Kind.STRING || !BASE64.test(node.value)) {
      throw badInput('Base64 expects a padded base64 string');
    }
    return Buffer.from(node.value, 'base64');
  },
});
