import type Redis from 'ioredis';
import { redisClient, startApp, startRedis, TestApp, tokenFor } from './harness';
import { sleep } from './support/reliability';
import { TestSocket } from './support/ws-client';

/** RELIABILITY.md §3: a stalled Redis (DEBUG SLEEP) and a full one (maxmemory + noeviction). */
describe('reliability: Redis slow or full', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: TestApp;
  let check: Redis;
  let token: string;

  beforeAll(async () => {
    redis = await startRedis(['--enable-debug-command', 'yes']);
    svc = await startApp(redis.url, { STREAM_MAXLEN: '0', REDIS_COMMAND_TIMEOUT_MS: '500' });
    check = redisClient(redis.url);
    token = await tokenFor(svc.http);
  });
  afterAll(async () => {
    check.disconnect();
    await svc.close();
    await redis.cleanup();
  });

  const post = (stream: string, body: Buffer): Promise<Response> =>
    fetch(`${svc.http}/data/${stream}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body,
    });

  async function pushBatch(ws: TestSocket, a: Buffer, b: Buffer): Promise<string[]> {
    await ws.send(`[${a.length},${a.length + b.length}]`);
    await ws.send(Buffer.concat([a, b]));
    return (await ws.nextText(5000)).split(',');
  }

  const ids = async (key: string): Promise<string[]> =>
    ((await check.xrange(key, '-', '+')) as [string, string[]][]).map(([id]) => id);

  it('DEBUG SLEEP 2: pushes fail with 1011 / 503 within REDIS_COMMAND_TIMEOUT_MS, whole batches only, then recover', async () => {
    const ws = await TestSocket.open(`${svc.ws}/data/slow/push?ack=1`, token);
    const first = await pushBatch(ws, Buffer.from('a0'), Buffer.from('b0'));
    // A stream this service has not written yet: its retention settings must be read first.
    const fresh = await TestSocket.open(`${svc.ws}/data/fresh/push?ack=1`, token);
    const side = redisClient(redis.url);
    const sleeping = side.call('DEBUG', 'SLEEP', '2');
    await sleep(50);
    const t0 = Date.now();
    await ws.send('[2,4]');
    await ws.send(Buffer.from('a1b1'));
    await fresh.send('[2,4]');
    await fresh.send(Buffer.from('f1g1'));
    const closed = await ws.closedWith(3000);
    const wsTook = Date.now() - t0;
    // The settings read timed out: the write fails as a stored one would, and nothing was sent.
    const freshClosed = await fresh.closedWith(3000);
    const freshTook = Date.now() - t0;
    const t1 = Date.now();
    const rest = await post('slow', Buffer.from('r1'));
    const restTook = Date.now() - t1;
    const restBody = (await rest.json()) as { detail: string };
    await sleeping;
    side.disconnect();
    expect(closed.code).toBe(1011);
    expect(closed.reason).toMatch(/storage/);
    expect(wsTook).toBeLessThan(1500);
    expect(freshClosed.code).toBe(1011);
    expect(freshClosed.reason).toMatch(/storage/);
    expect(freshTook).toBeLessThan(1500);
    expect(rest.status).toBe(503);
    expect(restBody.detail).toMatch(/Storage unavailable/);
    expect(restTook).toBeLessThan(1500);
    // the health check says so too while Redis sleeps? it is over by now: recovery
    const again = await TestSocket.open(`${svc.ws}/data/slow/push?ack=1`, token);
    const later = await pushBatch(again, Buffer.from('a2'), Buffer.from('b2'));
    again.close();
    const freshAgain = await TestSocket.open(`${svc.ws}/data/fresh/push?ack=1`, token);
    const freshLater = await pushBatch(freshAgain, Buffer.from('f2'), Buffer.from('g2'));
    freshAgain.close();
    expect(await ids('default:fresh')).toEqual(freshLater);
    expect((await post('slow', Buffer.from('r2'))).status).toBe(201);
    const stored = await ids('default:slow');
    for (const id of [...first, ...later]) expect(stored).toContain(id);
    // a timed-out command may still have run after the sleep; the 2-entry batch is whole or absent
    const payloads = ((await check.xrange('default:slow', '-', '+')) as [string, string[]][]).map(([, f]) => f[1]);
    expect(payloads.includes('a1')).toBe(payloads.includes('b1'));
    console.log(
      `[reliability §3 slow] ws-close=${closed.code} after ${wsTook} ms, REST ${rest.status} after ${restTook} ms; ` +
        `timed-out batch stored afterwards: ${payloads.includes('a1')}`,
    );
  });

  it('maxmemory reached (noeviction): pushes fail with 1011 "storage full" / 503, no partial batch, then recover', async () => {
    const used = Number(/used_memory:(\d+)/.exec(await check.info('memory'))![1]);
    await check.config('SET', 'maxmemory-policy', 'noeviction');
    await check.config('SET', 'maxmemory', String(used + 2 * 1024 * 1024));
    try {
      const ws = await TestSocket.open(`${svc.ws}/data/full/push?ack=1`, token);
      const acked: string[] = [];
      const chunk = Buffer.alloc(32 * 1024, 7);
      let batches = 0;
      for (; batches < 1000; batches++) {
        try {
          acked.push(...(await pushBatch(ws, chunk, chunk)));
        } catch {
          break;
        }
      }
      const closed = await ws.closedWith(3000);
      expect(closed.code).toBe(1011);
      expect(closed.reason).toMatch(/storage full/);
      expect(batches).toBeGreaterThan(5);
      // Larger than the refused batch: Redis counts a command's own arguments, and frees them after
      // refusing it, so a body no larger than that batch may just fit again.
      const rest = await post('full', Buffer.alloc(4 * chunk.length, 7));
      expect(rest.status).toBe(503);
      const stored = await ids('default:full');
      expect(stored).toEqual(acked);
      expect(stored.length % 2).toBe(0);
      console.log(
        `[reliability §3 full] ${acked.length} entries acked before OOM; ws-close=${closed.code} "${closed.reason}"; REST ${rest.status}`,
      );
    } finally {
      await check.config('SET', 'maxmemory', '0');
    }
    const ws = await TestSocket.open(`${svc.ws}/data/full/push?ack=1`, token);
    const ok = await pushBatch(ws, Buffer.from('x'), Buffer.from('y'));
    ws.close();
    expect(ok).toHaveLength(2);
    expect((await post('full', Buffer.from('z'))).status).toBe(201);
  });
});
