import { GraphQLSchemaHost } from '@nestjs/graphql';
import {
  getNamedType,
  GraphQLField,
  GraphQLInputType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  isLeafType,
  isListType,
  isNonNullType,
} from 'graphql';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { codes, gql, startTestbed, Subscription, Testbed, wsClient } from './graphql-client';
import { TestApp, tokenFor } from './harness';
import { writeUsersFile } from './support/rest';

/** A literal for an argument of `type`, good enough to get past validation to the guard. */
function probeValue(type: GraphQLInputType): string {
  if (isNonNullType(type)) return probeValue(type.ofType);
  if (isListType(type)) return `[${probeValue((type as GraphQLList<GraphQLInputType>).ofType)}]`;
  const name = getNamedType(type).name;
  return { String: '"probe"', Int: '1', Float: '1', Boolean: 'false', JSON: '{}' }[name] ?? '"probe"';
}

/** `{ field(requiredArgs) { __typename } }` for every field of a root type. */
function probes(root: GraphQLObjectType | null | undefined, keyword: string): [string, string][] {
  return Object.values(root?.getFields() ?? {}).map((field: GraphQLField<unknown, unknown>) => {
    const args = field.args
      .filter((a) => a.type instanceof GraphQLNonNull && a.defaultValue === undefined)
      .map((a) => `${a.name}: ${probeValue(a.type)}`);
    const call = args.length ? `${field.name}(${args.join(', ')})` : field.name;
    const selection = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
    return [field.name, `${keyword} { ${call}${selection} }`];
  });
}

/** The code (else the message) of the first error a subscription ended with. */
async function firstError(sub: Subscription): Promise<string | undefined> {
  for (let i = 0; i < 150 && !sub.done; i++) await new Promise((r) => setTimeout(r, 20));
  const errors = (sub.error ?? sub.results[0]?.errors) as { extensions?: { code?: string }; message: string }[];
  return errors?.[0]?.extensions?.code ?? errors?.[0]?.message;
}

describe('GraphQL auth, permissions and bad input', () => {
  let bed: Testbed;
  let svc: TestApp;
  let plain: Redis;
  let alice: string; // reads and writes cam1:* only
  let root: string; // admin
  let dev: string; // development identity: every stream, not admin

  beforeAll(async () => {
    const usersFile = writeUsersFile([
      { username: 'alice', password: 'pw-a', read: ['cam1:*'], write: ['cam1:*'] },
      { username: 'root', password: 'pw-r', read: ['*'], write: ['*'], roles: ['admin'] },
    ]);
    bed = await startTestbed({ AUTH_USERS_FILE: usersFile, AUTH_DEV_MODE: 'true' });
    ({ svc, plain } = bed);
    [alice, root, dev] = await Promise.all([
      tokenFor(svc.http, 'alice', 'pw-a'),
      tokenFor(svc.http, 'root', 'pw-r'),
      tokenFor(svc.http, 'dev'),
    ]);
    await plain.xadd('cam1:left', '*', 'd', '{"ok":1}');
    await plain.xadd('cam2:left', '*', 'd', 'secret');
    await plain.sadd(':devices:connected', 'cam1', 'cam2');
    await plain.sadd(':devices:seen', 'cam1', 'cam2');
  });
  afterAll(async () => {
    await bed.close();
  });

  describe('no token', () => {
    const schema = () => svc.app.get(GraphQLSchemaHost).schema;

    it('every Query and Mutation field answers UNAUTHENTICATED, and nothing runs', async () => {
      const all = [...probes(schema().getQueryType(), 'query'), ...probes(schema().getMutationType(), 'mutation')];
      expect(all.map(([name]) => name)).toEqual(expect.arrayContaining(['devices', 'streams', 'deleteStream']));
      for (const [name, query] of all) {
        for (const token of [null, 'not-a-jwt']) {
          const res = await gql(svc.http, token, query);
          expect({ name, status: res.status, codes: codes(res) }).toEqual({
            name,
            status: 200,
            codes: ['UNAUTHENTICATED'],
          });
        }
      }
      expect(await plain.exists(':devices:meta:probe', ':stream:meta:default:probe')).toBe(0);
    });

    it('every Subscription field needs a token: connection_init without one closes with 4401', async () => {
      expect(Object.keys(schema().getSubscriptionType()!.getFields())).toEqual(['data']);
      for (const params of [undefined, {}, { Authorization: 'Bearer nope' }, { Authorization: 'Basic x' }]) {
        const client = wsClient(svc.ws, params);
        const sub = new Subscription(client, 'subscription { data(streamIds: ["left"]) { id } }');
        expect(await client.closed).toEqual({ code: 4401, reason: expect.any(String) });
        await sub.take(1, 1000);
        expect(sub.results).toEqual([]);
      }
    });

    it('refuses a bad ?token= on the upgrade with HTTP 401 before accepting the socket', async () => {
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${svc.ws}/graphql?token=bad`, 'graphql-transport-ws');
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
      expect(status).toBe(401);
    });

    it('accepts the token as ?token= on the upgrade or in connectionParams', async () => {
      const id = (await plain.xadd('cam1:left', '*', 'd', 'x'))!;
      const ways: [string, Record<string, unknown> | undefined][] = [
        [`?token=${alice}`, undefined],
        ['', { Authorization: `Bearer ${alice}` }],
      ];
      for (const [query, params] of ways) {
        const client = wsClient(svc.ws, params, query);
        const sub = new Subscription(
          client,
          `subscription { data(streamIds: ["left"], deviceId: "cam1", lastEntryId: "0") { id } }`,
        );
        expect((await sub.take(2)).map((r) => r.data!.data.id)).toContain(id);
        await Promise.resolve(client.dispose());
      }
    });
  });

  describe('permissions', () => {
    it('lists only the devices and streams the user may read', async () => {
      const res = await gql(svc.http, alice, '{ devices { id streamIds } streams { id } streamIds }');
      expect(res.data).toEqual({
        devices: [{ id: 'cam1', streamIds: ['left'] }],
        streams: [{ id: 'cam1:left' }],
        streamIds: ['cam1:left'],
      });
      const all = await gql(svc.http, dev, '{ devices { id } }');
      expect(all.data!.devices).toEqual([{ id: 'cam1' }, { id: 'cam2' }]);
    });

    it('answers FORBIDDEN for a stream or device the user may not read', async () => {
      for (const query of [
        '{ stream(id: "cam2:left") { id } }',
        '{ stream(id: "left", deviceId: "cam2") { id } }',
        '{ streams(ids: ["cam1:left", "cam2:left"]) { id } }',
        '{ device(id: "cam2") { id } }',
        '{ devices(ids: ["cam2"]) { id } }',
      ]) {
        const res = await gql(svc.http, alice, query);
        expect({ query, codes: codes(res) }).toEqual({ query, codes: ['FORBIDDEN'] });
      }
      const ok = await gql(svc.http, alice, '{ device(id: "cam1") { stream(streamId: "left") { firstEntryJson } } }');
      expect(ok.data).toEqual({ device: { stream: { firstEntryJson: { ok: 1 } } } });
    });

    it('answers FORBIDDEN for writes without permission, and deleteStream without admin', async () => {
      for (const [token, query] of [
        [alice, 'mutation { updateStreamMeta(deviceId: "cam2", streamId: "left", meta: {a: 1}) }'],
        [alice, 'mutation { connectDevice(deviceId: "cam2") }'],
        [alice, 'mutation { updateDeviceMeta(deviceId: "cam2", meta: {}) }'],
        [alice, 'mutation { disconnectDevice(deviceId: "cam2") }'],
        [dev, 'mutation { deleteStream(deviceId: "cam2", streamId: "left") }'],
      ]) {
        const res = await gql(svc.http, token, query);
        expect({ query, codes: codes(res) }).toEqual({ query, codes: ['FORBIDDEN'] });
      }
      expect(await plain.sismember(':devices:connected', 'cam2')).toBe(1);
      expect(await plain.exists('cam2:left', ':stream:meta:cam2:left')).toBe(1);
    });

    it('lets an admin delete a stream, then answers NOT_FOUND', async () => {
      await plain.xadd('cam2:gone', '*', 'd', 'x');
      await plain.set(':stream:meta:cam2:gone', '{"a":1}');
      const del = 'mutation { deleteStream(deviceId: "cam2", streamId: "gone") }';
      const res = await gql(svc.http, root, del);
      expect(res.data!.deleteStream).toEqual({ deleted: true });
      expect(await plain.exists('cam2:gone', ':stream:meta:cam2:gone')).toBe(0);
      expect(codes(await gql(svc.http, root, del))).toEqual(['NOT_FOUND']);
    });

    it('refuses a subscription to a forbidden stream with FORBIDDEN', async () => {
      const client = wsClient(svc.ws, { Authorization: `Bearer ${alice}` });
      const sub = new Subscription(client, 'subscription { data(streamIds: ["left"], deviceId: "cam2") { id } }');
      expect(await firstError(sub)).toBe('FORBIDDEN');
      // A glob includes only what the user may read.
      const glob = new Subscription(
        client,
        'subscription { data(streamIds: ["*"], deviceId: "cam1", lastEntryId: "0") { streamId } }',
      );
      expect((await glob.take(1)).map((r) => r.data!.data.streamId)).toEqual(['left']);
      await Promise.resolve(client.dispose());
    });
  });

  describe('bad input', () => {
    const cases: [string, string, Record<string, unknown> | undefined, string, number][] = [
      ['wrong argument type', '{ streams(ids: 5) { id } }', undefined, 'GRAPHQL_VALIDATION_FAILED', 400],
      [
        'wrong variable type',
        'query ($all: Boolean!) { devices(includeAll: $all) { id } }',
        { all: 'yes' },
        'BAD_USER_INPUT',
        400,
      ],
      ['unknown field', '{ streams { id nope } }', undefined, 'GRAPHQL_VALIDATION_FAILED', 400],
      ['unknown argument', '{ streams(bogus: 1) { id } }', undefined, 'GRAPHQL_VALIDATION_FAILED', 400],
      ['syntax error', '{ streams { id ', undefined, 'GRAPHQL_PARSE_FAILED', 400],
      ['bad stream id', '{ stream(id: "../etc", deviceId: "default") { id } }', undefined, 'BAD_USER_INPUT', 200],
      ['raw key that is not a data key', '{ stream(id: ":devices:seen") { id } }', undefined, 'BAD_USER_INPUT', 200],
      ['bad device id', '{ device(id: "a:b") { id } }', undefined, 'BAD_USER_INPUT', 200],
      ['bad match', '{ streamIds(match: "a?[b]") }', undefined, 'BAD_USER_INPUT', 200],
      [
        'meta not an object',
        'mutation { updateStreamMeta(streamId: "s", meta: [1]) }',
        undefined,
        'BAD_USER_INPUT',
        200,
      ],
      [
        'over-deep query',
        `{ __schema { types { fields { type { fields { type { fields { type { fields { type { fields {
           type { fields { type { name } } } } } } } } } } } } } } }`,
        undefined,
        'GRAPHQL_VALIDATION_FAILED',
        400,
      ],
      [
        'too many fields',
        `{ ${Array.from({ length: 300 }, (_, i) => `a${i}: streamIds b${i}: streamIds`).join(' ')} }`,
        undefined,
        'GRAPHQL_VALIDATION_FAILED',
        400,
      ],
    ];

    it.each(cases)('%s → a GraphQL error with a code, never a 500', async (_name, query, variables, code, status) => {
      const res = await gql(svc.http, dev, query, variables);
      expect(res.status).toBe(status);
      expect(codes(res)).toEqual([code]);
      expect(res.errors![0].message).not.toMatch(/internal/i);
    });

    it('rejects bad subscription arguments and over-deep operations over WebSocket too', async () => {
      const client = wsClient(svc.ws, { Authorization: `Bearer ${dev}` });
      for (const [query, code] of [
        ['subscription { data(streamIds: ["a", "a"]) { id } }', 'BAD_USER_INPUT'],
        ['subscription { data(streamIds: []) { id } }', 'BAD_USER_INPUT'],
        ['subscription { data(streamIds: ["a"], count: 0) { id } }', 'BAD_USER_INPUT'],
        ['subscription { data(streamIds: ["a"], lastEntryId: "yesterday") { id } }', 'BAD_USER_INPUT'],
        ['subscription { data(streamIds: ["a*", "b"]) { id } }', 'BAD_USER_INPUT'],
        ['subscription { data(streamIds: ["a"]) { nope } }', 'GRAPHQL_VALIDATION_FAILED'],
        [
          '{ __schema { types { fields { type { fields { type { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } } } } } }',
          'GRAPHQL_VALIDATION_FAILED',
        ],
      ]) {
        const sub = new Subscription(client, query);
        expect({ query, code: await firstError(sub) }).toEqual({ query, code });
      }
      await Promise.resolve(client.dispose());
    });

    it('answers a malformed request body with 400, not 500', async () => {
      const res = await fetch(`${svc.http}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${dev}` },
        body: '{"query": ',
      });
      expect(res.status).toBe(400);
    });
  });
});
