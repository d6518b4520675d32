import { GraphQLSchemaHost } from '@nestjs/graphql';
import { lexicographicSortSchema, printSchema } from 'graphql';
import Redis from 'ioredis';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codes, gql, startTestbed, Testbed } from './graphql-client';
import { TestApp, tokenFor } from './harness';

/** Calls per command since the last CONFIG RESETSTAT, from INFO commandstats. */
async function commandCalls(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const out: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

describe('GraphQL queries and mutations', () => {
  let bed: Testbed;
  let svc: TestApp;
  let plain: Redis;
  let token: string;
  const q = (query: string, variables?: Record<string, unknown>) => gql(svc.http, token, query, variables);

  beforeAll(async () => {
    bed = await startTestbed();
    ({ svc, plain } = bed);
    token = await tokenFor(svc.http);
  });
  afterAll(async () => {
    await bed.close();
  });

  it('runs the schema committed as schema.graphql (emitted sorted, so stable across runs)', () => {
    const file = join(__dirname, '..', 'schema.graphql');
    const emitted = readFileSync(file, 'utf8');
    expect(emitted).toContain(printSchema(lexicographicSortSchema(svc.app.get(GraphQLSchemaHost).schema)));
    let committed: string;
    try {
      committed = execFileSync('git', ['show', 'HEAD:schema.graphql'], {
        cwd: join(__dirname, '..'),
        encoding: 'utf8',
      });
    } catch {
      return; // not a git checkout (e.g. a source tarball): nothing to compare with
    }
    expect(emitted).toBe(committed); // a changed schema must be committed with the change
  });

  describe("the old README's queries, adapted to the schema's names", () => {
    beforeAll(async () => {
      await plain.xadd('my-device:glf', '*', 'd', '{"frame":1}');
      await plain.xadd('my-device:glf', '*', 'd', '{"frame":2}');
      await plain.xadd('my-device:mic', '*', 'd', 'hello');
    });

    it('connects a device with metadata (connectDevice)', async () => {
      const res = await q('mutation ($id: String!, $meta: JSON) { connectDevice(deviceId: $id, meta: $meta) }', {
        id: 'my-device',
        meta: { parameterA: 11.2, parameterB: 'xyz' },
      });
      expect(res.errors).toBeUndefined();
      expect(res.data!.connectDevice).toEqual({
        connection_status_changed: true,
        connected: true,
        is_new_device: true,
        meta_set: true,
        'fired:device.connected': true,
        'fired:device.meta': true,
      });
    });

    it('lists connected and seen devices (GetDevices)', async () => {
      const res = await q('query GetDevices { connected: devices { id } seen: devices(includeAll: true) { id } }');
      expect(res.data).toEqual({ connected: [{ id: 'my-device' }], seen: [{ id: 'my-device' }] });
    });

    it("lists a device's streams without the device prefix", async () => {
      const res = await q(
        `query ($id: String!) { device(id: $id) { id meta streamIds
           streams { streamId firstEntryId lastEntryId length } } }`,
        { id: 'my-device' },
      );
      const device = res.data!.device;
      expect(device.meta).toEqual({ parameterA: 11.2, parameterB: 'xyz' });
      expect(device.streamIds).toEqual(['glf', 'mic']);
      expect(device.streams).toEqual([
        {
          streamId: 'glf',
          firstEntryId: expect.stringMatching(/^\d+-\d+$/),
          lastEntryId: expect.any(String),
          length: 2,
        },
        { streamId: 'mic', firstEntryId: expect.any(String), lastEntryId: expect.any(String), length: 1 },
      ]);
      expect(device.streams[0].firstEntryId).not.toBe(device.streams[0].lastEntryId);
    });

    it('breaks XINFO STREAM into fields (GetStreams)', async () => {
      const res = await q(`query GetStreams { devices { streamIds streams {
        id entriesAdded firstEntryId firstEntryData firstEntryString firstEntryJson firstEntryTime
        lastEntryId lastEntryData lastEntryString lastEntryJson lastEntryTime lastGeneratedId
        maxDeletedEntryId groups length radixTreeKeys radixTreeNodes recordedFirstEntryId error meta } } }`);
      expect(res.errors).toBeUndefined();
      const [glf, mic] = res.data!.devices[0].streams;
      const [first, last] = await plain.xrange('my-device:glf', '-', '+');
      expect(glf).toEqual({
        id: 'glf',
        entriesAdded: 2,
        firstEntryId: first[0],
        firstEntryData: Buffer.from('{"frame":1}').toString('base64'),
        firstEntryString: '{"frame":1}',
        firstEntryJson: { frame: 1 },
        firstEntryTime: new Date(Number(first[0].split('-')[0])).toISOString(),
        lastEntryId: last[0],
        lastEntryData: Buffer.from('{"frame":2}').toString('base64'),
        lastEntryString: '{"frame":2}',
        lastEntryJson: { frame: 2 },
        lastEntryTime: new Date(Number(last[0].split('-')[0])).toISOString(),
        lastGeneratedId: last[0],
        maxDeletedEntryId: '0-0',
        groups: 0,
        length: 2,
        radixTreeKeys: 1,
        radixTreeNodes: 2,
        recordedFirstEntryId: first[0],
        error: null,
        meta: {},
      });
      // A text payload that is not JSON: string yes, json null.
      expect(mic).toMatchObject({ firstEntryString: 'hello', firstEntryJson: null, lastEntryJson: null });
    });

    it('lists every stream by raw key, system event streams included (Streams)', async () => {
      const res = await q('query Streams { streams { id streamId deviceId } }');
      const streams: { id: string }[] = res.data!.streams;
      expect(streams).toEqual(
        expect.arrayContaining([
          { id: ':event:device.connected', streamId: ':event:device.connected', deviceId: null },
          { id: ':event:device.meta', streamId: ':event:device.meta', deviceId: null },
          { id: 'my-device:glf', streamId: 'glf', deviceId: 'my-device' },
          { id: 'my-device:mic', streamId: 'mic', deviceId: 'my-device' },
        ]),
      );
      expect(streams.map((s) => s.id)).toEqual(streams.map((s) => s.id).sort());
      const ids = await q('{ streamIds(match: "my-device:g*") all: streamIds(deviceId: "my-device") }');
      expect(ids.data).toEqual({ streamIds: ['my-device:glf'], all: ['glf', 'mic'] });
    });

    it('sets and reads stream metadata (updateStreamMeta)', async () => {
      const set = await q('mutation ($sid: String!, $meta: JSON!) { updateStreamMeta(streamId: $sid, meta: $meta) }', {
        sid: 'glf',
        meta: { format: 'mp4' },
      });
      expect(set.data!.updateStreamMeta).toEqual({ meta_set: true, meta: { format: 'mp4' } });
      const read = await q('query ($sids: [String!]) { streams(ids: $sids, deviceId: "default") { streamId meta } }', {
        sids: ['glf'],
      });
      expect(read.data!.streams).toEqual([{ streamId: 'glf', meta: { format: 'mp4' } }]);
    });
  });

  it('connect → listed → disconnect → only with includeAll, with events in the old layout', async () => {
    const list = async () =>
      (await q('{ connected: devices { id connected } seen: devices(includeAll: true) { id connected } }')).data!;
    await q('mutation { connectDevice(deviceId: "cam-7") }');
    expect((await list()).connected).toContainEqual({ id: 'cam-7', connected: true });

    const off = await q('mutation { disconnectDevice(deviceId: "cam-7") }');
    expect(off.errors).toBeUndefined();
    expect(off.data!.disconnectDevice).toEqual({
      connection_status_changed: true,
      connected: false,
      'fired:device.connected': true,
    });
    const after = await list();
    expect(after.connected.map((d: { id: string }) => d.id)).not.toContain('cam-7');
    expect(after.seen).toContainEqual({ id: 'cam-7', connected: false });
    expect(await plain.sismember(':devices:seen', 'cam-7')).toBe(1);

    const again = await q('mutation { disconnectDevice(deviceId: "cam-7") }');
    expect(again.data!.disconnectDevice.connection_status_changed).toBe(false);

    const events = (await plain.xrange(':event:device.connected', '-', '+')).map(([, f]) => JSON.parse(f[1]));
    expect(events.filter((e) => e.device_id === 'cam-7')).toEqual([
      { device_id: 'cam-7', connected: true, meta: null },
      { device_id: 'cam-7', connected: false },
      { device_id: 'cam-7', connected: false },
    ]);
  });

  it('round-trips device metadata: replace, merge, and the event', async () => {
    await q('mutation { updateDeviceMeta(deviceId: "imu-1", meta: {rate: 100, unit: "g"}) }');
    const merged = await q('mutation { updateDeviceMeta(deviceId: "imu-1", meta: {rate: 200}, update: true) }');
    expect(merged.data!.updateDeviceMeta).toEqual({
      meta_set: true,
      'fired:device.meta': true,
      meta: { rate: 200, unit: 'g' },
    });
    await q('mutation { updateDeviceMeta(deviceId: "imu-1", meta: {replaced: true}) }');
    const res = await q('{ device(id: "imu-1") { meta } devices(includeAll: true) { id } }');
    expect(res.data!.device.meta).toEqual({ replaced: true });
    expect(res.data!.devices).toContainEqual({ id: 'imu-1' });
    // Existing data written by the old server is read as it is.
    expect(JSON.parse((await plain.get(':devices:meta:imu-1'))!)).toEqual({ replaced: true });
    const [, fields] = (await plain.xrevrange(':event:device.meta', '+', '-', 'COUNT', 1))[0];
    expect(JSON.parse(fields[1])).toEqual({ device_id: 'imu-1', meta: { replaced: true } });
  });

  it('round-trips stream metadata: replace by default, merge with update: true', async () => {
    const set = (meta: object, update = false) =>
      q(
        'mutation ($m: JSON!, $u: Boolean!) { updateStreamMeta(deviceId: "meta-dev", streamId: "s", meta: $m, update: $u) }',
        {
          m: meta,
          u: update,
        },
      );
    await set({ a: 1, b: { c: [1, 2] } });
    expect((await set({ d: 'x' }, true)).data!.updateStreamMeta.meta).toEqual({ a: 1, b: { c: [1, 2] }, d: 'x' });
    const read = await q('{ stream(id: "meta-dev:s") { meta } s: stream(id: "s", deviceId: "meta-dev") { id meta } }');
    expect(read.data).toEqual({
      stream: { meta: { a: 1, b: { c: [1, 2] }, d: 'x' } },
      s: { id: 's', meta: { a: 1, b: { c: [1, 2] }, d: 'x' } },
    });
    await set({ only: true });
    expect((await q('{ stream(id: "meta-dev:s") { meta } }')).data!.stream.meta).toEqual({ only: true });
  });

  it('shows a stream with metadata but no data with error "no such key"', async () => {
    await q('mutation { updateStreamMeta(deviceId: "ghost", streamId: "planned", meta: {format: "jpeg"}) }');
    const res = await q(`{ device(id: "ghost") { streamIds streams { streamId meta error length firstEntryId
      firstEntryJson lastEntryTime lastGeneratedId } } }`);
    expect(res.data!.device).toEqual({
      streamIds: ['planned'],
      streams: [
        {
          streamId: 'planned',
          meta: { format: 'jpeg' },
          error: 'no such key',
          length: 0,
          firstEntryId: null,
          firstEntryJson: null,
          lastEntryTime: null,
          lastGeneratedId: null,
        },
      ],
    });
  });

  it('gives null text and JSON for binary payloads, and their bytes as base64', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80]);
    await plain.xadd('bin:raw', '*', 'd', bytes);
    const res = await q('{ stream(id: "raw", deviceId: "bin") { firstEntryData firstEntryString firstEntryJson } }');
    expect(res.data!.stream).toEqual({
      firstEntryData: bytes.toString('base64'),
      firstEntryString: null,
      firstEntryJson: null,
    });
  });

  it('answers NOT_FOUND for a stream with neither data nor metadata', async () => {
    const res = await q('{ stream(id: "nowhere:none") { id } }');
    expect(res.data).toEqual({ stream: null });
    expect(codes(res)).toEqual(['NOT_FOUND']);
  });

  it('describes 100 streams with a bounded number of Redis commands (no N+1)', async () => {
    const pipe = plain.pipeline();
    for (let i = 0; i < 100; i++) {
      pipe.xadd(`many:s${String(i).padStart(3, '0')}`, '*', 'd', `{"i":${i}}`);
      pipe.set(`:stream:meta:many:s${String(i).padStart(3, '0')}`, JSON.stringify({ i }));
    }
    await pipe.exec();
    await plain.config('RESETSTAT');
    const res = await q(`{
      device(id: "many") { meta streams { id length meta firstEntryJson lastEntryTime error } }
      streams(deviceId: "many") { id groups }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.device.streams).toHaveLength(100);
    expect(res.data!.device.streams[42]).toMatchObject({
      id: 's042',
      length: 1,
      meta: { i: 42 },
      firstEntryJson: { i: 42 },
    });
    const calls = await commandCalls(plain);
    // Both listings share one batch: one XINFO per stream (pipelined), one MGET of all metadata.
    expect(calls['xinfo|stream']).toBe(100);
    expect(calls.mget).toBe(2); // stream metadata, device metadata
    expect(calls.scan).toBeLessThanOrEqual(4); // two listings × (streams, metadata-only)
    expect(calls.get ?? 0).toBe(0);
    const total = Object.entries(calls).reduce((n, [cmd, c]) => (cmd === 'info' || cmd === 'config' ? n : n + c), 0);
    expect(total).toBeLessThanOrEqual(110);
  });
});
