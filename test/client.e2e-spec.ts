import bcrypt from 'bcryptjs';
import Redis from 'ioredis';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, Entry, getToken, StreamerClient, StreamerError } from '../src/client';
import { redisClient, startApp, startRedis, TestApp, tokenFor } from './harness';

const text = (e: Entry): string => Buffer.from(e.data).toString('utf8');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** Reads `n` entries of a puller. */
async function take(iter: AsyncIterable<Entry>, n: number): Promise<Entry[]> {
  const got: Entry[] = [];
  if (n === 0) return got;
  for await (const e of iter) {
    got.push(e);
    if (got.length === n) break;
  }
  return got;
}

describe('client library against the real service', () => {
  let redisServer: Awaited<ReturnType<typeof startRedis>>;
  let svc: TestApp;
  let redis: Redis;
  let client: StreamerClient;
  let env: Record<string, string>;

  beforeAll(async () => {
    redisServer = await startRedis();
    const usersFile = join(mkdtempSync(join(tmpdir(), 'rs-client-users-')), 'users.json');
    writeFileSync(
      usersFile,
      JSON.stringify([
        { username: 'cam', password_hash: bcrypt.hashSync('secret', 4), read: ['*'], write: ['default:cam*'] },
      ]),
    );
    env = { STREAM_MAXLEN: '0', AUTH_USERS_FILE: usersFile, AUTH_DEV_MODE: 'true' };
    svc = await startApp(redisServer.url, env);
    redis = redisClient(redisServer.url);
    client = createClient({ url: svc.http, token: await tokenFor(svc.http) });
  });
  afterAll(async () => {
    redis.disconnect();
    await svc.close();
    await redisServer.cleanup();
  });

  it('pushes in acknowledged batches; Redis holds every payload once, in order', async () => {
    const acked: string[] = [];
    const pusher = client.pushStream('batched', {
      batchEntries: 64,
      maxInFlight: 3,
      onAck: (ids) => acked.push(...ids),
    });
    const payloads = Array.from({ length: 1000 }, (_, i) => (i % 7 === 0 ? '' : `v${i}`));
    for (const p of payloads) await pusher.push(p);
    await pusher.close();
    const stored = await redis.xrange('default:batched', '-', '+');
    expect(stored.map(([, fields]) => fields[1])).toEqual(payloads);
    expect(acked).toEqual(stored.map(([id]) => id));
    expect(pusher.stats).toMatchObject({ entries: 1000, entriesDone: 1000, batchesSent: Math.ceil(1000 / 64) });
  });

  it('batches by bytes and by time window, and flush() waits for the acks', async () => {
    const pusher = client.pushStream('windows', { batchBytes: 1000, batchMs: 30 });
    const big = new Uint8Array(600).fill(7);
    await pusher.push(big);
    await pusher.push(big); // 1200 bytes: sealed by size
    await pusher.push('x'); // sealed by the 30 ms window
    await sleep(80);
    expect(pusher.stats.batchesSent).toBe(2);
    await pusher.push('y');
    await pusher.flush();
    expect(pusher.stats).toMatchObject({ batchesSent: 3, entriesDone: 4 });
    await pusher.close();
    expect(await redis.xlen('default:windows')).toBe(4);
  });

  it('pulls a+b from 0 with per-stream order, ids and times; a $ pull sees only new entries', async () => {
    const a = await client.post('ab-a', ['a0', 'a1', 'a2']);
    const b = await client.post('ab-b', ['b0', 'b1']);
    const got = await take(client.pullStream('ab-a+ab-b', { lastEntryId: '0', count: 2 }), 5);
    const of = (sid: string): Entry[] => got.filter((e) => e.streamId === sid);
    expect(of('ab-a').map((e) => e.id)).toEqual(a);
    expect(of('ab-b').map((e) => e.id)).toEqual(b);
    expect(of('ab-a').map(text)).toEqual(['a0', 'a1', 'a2']);
    expect(got[0].time).toBe(Number(got[0].id.split('-')[0]));

    const tail = client.pullStream('ab-a');
    await tail.ready;
    const [id] = await client.post('ab-a', ['new']);
    expect((await take(tail, 1)).map((e) => [e.id, text(e)])).toEqual([[id, 'new']]);
  });

  it('latest=1 skips what a slow reader missed', async () => {
    await client.post('lat', ['1', '2', '3', '4']);
    const puller = client.pullStream('lat', { lastEntryId: '0', latest: true, count: 1 });
    const [first] = await take(puller, 1);
    expect(text(first)).toBe('4');
  });

  it('REST helpers: post, get with its cursor, range; info, graphql, streams(), devices()', async () => {
    const ids = await client.post('rest', ['one', new Uint8Array([0, 255, 1])]);
    const first = await client.get('rest', { lastEntryId: '0', count: 10 });
    expect(first.entries.map((e) => e.id)).toEqual(ids);
    expect(Buffer.from(first.entries[1].data)).toEqual(Buffer.from([0, 255, 1]));
    expect(first.cursor).toBe(ids[1]);
    const none = await client.get('rest', { lastEntryId: first.cursor, block: 0 });
    expect(none).toEqual({ entries: [], cursor: ids[1] });
    expect((await client.range('rest', { start: ids[1] })).map((e) => e.id)).toEqual([ids[1]]);

    const info = await client.info('rest');
    expect(info).toMatchObject({ streamId: 'rest', length: 2, lastEntryId: ids[1] });
    const listed = await client.streams({ match: 'rest' });
    expect(listed).toEqual([expect.objectContaining({ streamId: 'rest', length: 2, lastEntryId: ids[1] })]);
    await client.graphql('mutation { connectDevice(deviceId: "dev-1") }');
    expect((await client.devices()).map((d) => d.id)).toContain('dev-1');
    await expect(client.graphql('{ nope }')).rejects.toThrow(/GraphQL: .*nope/);
  });

  it('refusals carry the status: 401 for a bad token, 403 for a stream the user may not write', async () => {
    const bad = createClient({ url: svc.http, token: 'not-a-jwt' });
    const pusher = bad.pushStream('x');
    await expect(pusher.ready).rejects.toMatchObject({ status: 401 });
    await expect(pusher.push('a')).rejects.toMatchObject({ status: 401 });
    await expect(bad.pullStream('x').next()).rejects.toMatchObject({ status: 401 });
    await expect(bad.get('x')).rejects.toMatchObject({ status: 401 });
    await expect(getToken(svc.http, 'cam', 'wrong')).rejects.toMatchObject({ status: 401 });

    const cam = createClient({ url: svc.http, token: () => getToken(svc.http, 'cam', 'secret') });
    const ok = cam.pushStream('cam1');
    await ok.push('fine');
    await ok.close();
    const denied = cam.pushStream('other');
    await denied.push('no');
    const err = (await denied.flush().catch((e: unknown) => e)) as StreamerError;
    expect(err).toBeInstanceOf(StreamerError);
    expect(err.status).toBe(403);
    expect(err.transient).toBe(false);
  });

  it('a service restart mid-stream: a $ puller loses and repeats nothing, the pusher resends only unacked batches', async () => {
    const port = Number(new URL(svc.http).port);
    const n = 3000;
    const retries: string[] = [];
    const acked = new Set<string>();
    const onRetry = (e: StreamerError): number => retries.push(e.message);
    const puller = client.pullStream('restart', { onRetry, reconnect: { initialDelayMs: 50, maxDelayMs: 300 } });
    await puller.ready;
    const pusher = client.pushStream('restart', {
      batchEntries: 20,
      maxInFlight: 4,
      onRetry,
      onAck: (ids) => ids.forEach((id) => acked.add(id)),
      reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
    });
    const producing = (async () => {
      for (let i = 0; i < n; i++) {
        await pusher.push(String(i));
        if (i % 20 === 19) await sleep(2);
      }
      await pusher.close();
    })();
    const got: Entry[] = [];
    const consuming = (async () => {
      for await (const e of puller) got.push(e);
    })();

    await until(() => pusher.stats.entriesDone > n / 4);
    await svc.close();
    svc = await startApp(redisServer.url, env, port);
    await producing;
    const stored = await redis.xrange('default:restart', '-', '+');
    await until(() => got.length >= stored.length);
    await sleep(100);
    puller.close();
    await consuming;

    // The puller: exactly what is stored, nothing lost or repeated across the restart.
    expect(got.map((e) => [e.id, text(e)])).toEqual(stored.map(([id, f]) => [id, f[1]]));
    // The pusher: every value, first copies in push order, and a value stored twice only when
    // its first copy was never acknowledged (at least once: only unacked batches are resent).
    // The service may still store a batch that was in its socket buffer when it closed with 1001.
    const firstCopies = new Map<string, string>();
    for (const [id, f] of stored) {
      if (firstCopies.has(f[1])) expect(acked.has(firstCopies.get(f[1])!)).toBe(false);
      else firstCopies.set(f[1], id);
    }
    expect([...firstCopies.keys()]).toEqual(Array.from({ length: n }, (_, i) => String(i)));
    expect(stored.length - n).toBeLessThanOrEqual(4 * 20);
    expect(pusher.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(puller.reconnects).toBeGreaterThanOrEqual(1);
    expect(retries.length).toBeGreaterThanOrEqual(2);
  });
});
