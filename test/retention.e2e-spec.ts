import Redis from 'ioredis';
import request from 'supertest';
import { RetentionService, SWEEP_LOCK_KEY } from '../src/streams/retention.service';
import { StreamKeys } from '../src/streams/stream-keys.service';
import { StreamMetaService } from '../src/streams/stream-meta.service';
import { redisClient, startApp, startRedis, TestApp, tokenFor } from './harness';

/**
 * Retention cases not covered by streams-api.e2e-spec.ts (maxlen on write, max_age_ms in the sweep,
 * one sweep across two instances): max_age_ms on write through both write paths, maxlen applied by
 * the sweep to a stream nobody writes, and STREAM_MAXLEN against a stream's `maxlen: 0`.
 */
describe('retention: maxlen and max_age_ms on write and in the sweep', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: TestApp;
  let r: Redis;
  let token: string;

  beforeAll(async () => {
    redis = await startRedis();
    // STREAM_MAXLEN left at its default, 1000
    svc = await startApp(redis.url);
    r = redisClient(redis.url);
    token = await tokenFor(svc.http);
  });
  afterAll(async () => {
    r.disconnect();
    await svc.close();
    await redis.cleanup();
  });

  const putMeta = (sid: string, meta: object) =>
    request(svc.http).put(`/streams/${sid}`).set('Authorization', `Bearer ${token}`).send(meta).expect(200);

  /** One multipart upload of `n` entries: one atomic batch (the Lua script path). */
  const upload = async (sid: string, n: number): Promise<string[]> => {
    let req = request(svc.http).post(`/data/${sid}`).set('Authorization', `Bearer ${token}`);
    for (let i = 0; i < n; i++) req = req.attach('entries', Buffer.from(`e${i}`), sid);
    return (await req.expect(201)).body as string[];
  };

  /** One raw entry: a plain XADD (+ XTRIM MINID) once the stream is known to this process. */
  const postOne = async (sid: string, body: string): Promise<string> =>
    (
      await request(svc.http)
        .post(`/data/${sid}`)
        .set('Authorization', `Bearer ${token}`)
        .type('application/octet-stream')
        .send(Buffer.from(body))
        .expect(201)
    ).body[0] as string;

  const seed = async (key: string, ids: string[]): Promise<void> => {
    const pipe = r.pipeline();
    for (const id of ids) pipe.xadd(key, id, 'd', 'old');
    await pipe.exec();
  };

  it('drops entries older than max_age_ms on a batch write', async () => {
    const old = Date.now() - 3600_000;
    await seed(
      'default:aged-batch',
      Array.from({ length: 300 }, (_, i) => `${old + i}-0`),
    );
    await putMeta('aged-batch', { max_age_ms: 60_000, maxlen: 0 });
    const ids = await upload('aged-batch', 2);
    // MINID ~ drops whole radix-tree nodes (100 entries): the 300 old ones fill three
    const left = await r.xrange('default:aged-batch', '-', '+');
    expect(left.map(([id]) => id)).toEqual(ids);
  });

  it('drops entries older than max_age_ms on a single-entry write', async () => {
    await putMeta('aged-one', { max_age_ms: 300, maxlen: 0 });
    const first = await upload('aged-one', 300);
    expect(await r.xlen('default:aged-one')).toBe(300);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const fresh = await postOne('aged-one', 'fresh');
    const left = await r.xrange('default:aged-one', '-', '+');
    expect(left.length).toBeLessThanOrEqual(101);
    expect(left[left.length - 1][0]).toBe(fresh);
    // what is left of the old entries is the tail of the last node, never anything newer than max_age_ms
    expect(left.slice(0, -1).map(([id]) => id)).toEqual(first.slice(first.length - (left.length - 1)));
  });

  it('applies STREAM_MAXLEN to streams without metadata; maxlen 0 keeps everything', async () => {
    await putMeta('keep-all', { maxlen: 0 });
    for (let i = 0; i < 3; i++) {
      await upload('keep-all', 500);
      await upload('default-cap', 500);
    }
    expect(await r.xlen('default:keep-all')).toBe(1500);
    const capped = await r.xlen('default:default-cap');
    expect(capped).toBeGreaterThanOrEqual(1000);
    expect(capped).toBeLessThan(1100);
  });

  it('trims a stream nobody writes to its lowered maxlen in the sweep, and leaves streams without metadata', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `${i + 1}-0`);
    await seed('default:idle', ids);
    await seed('default:no-meta', ids);
    await putMeta('idle', { maxlen: 100 });
    await r.del(SWEEP_LOCK_KEY);
    const result = await svc.app.get(RetentionService).sweep();
    expect(result).not.toBeNull();
    expect(result!.removed).toBeGreaterThanOrEqual(800);
    const left = await r.xrange('default:idle', '-', '+');
    expect(left.length).toBeGreaterThanOrEqual(100);
    expect(left.length).toBeLessThanOrEqual(200);
    // the newest entries are the ones kept
    expect(left.map(([id]) => id)).toEqual(ids.slice(ids.length - left.length));
    // a stream without metadata is trimmed by its writes (STREAM_MAXLEN), not by the sweep
    expect(await r.xlen('default:no-meta')).toBe(1000);
  });

  it('keeps writing with cached settings past the cache time and picks up a change made elsewhere', async () => {
    const meta = svc.app.get(StreamMetaService);
    const key = 'default:swr';
    expect((await meta.trimPolicies([key])).get(key)).toEqual({ maxlen: 1000 });
    // Another instance (or a tool) changes the settings straight in Redis.
    await r.set(svc.app.get(StreamKeys).metaKey(key), JSON.stringify({ maxlen: 5 }));
    expect(meta.cachedPolicies([key])?.get(key)).toEqual({ maxlen: 1000 });
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now + 6000);
    try {
      // Past the cache time: the old settings are still served at once (no write waits)...
      expect(meta.cachedPolicies([key])?.get(key)).toEqual({ maxlen: 1000 });
      // ...while they are fetched again in the background.
      let seen: unknown;
      for (let i = 0; i < 100 && !seen; i++) {
        await new Promise((done) => setTimeout(done, 10));
        const p = meta.cachedPolicies([key])?.get(key);
        if (p?.maxlen === 5) seen = p;
      }
      expect(seen).toEqual({ maxlen: 5 });
    } finally {
      clock.mockRestore();
    }
    expect(meta.cachedPolicies(['default:never-seen'])).toBeNull();
  });
});
