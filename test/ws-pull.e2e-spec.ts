import Redis from 'ioredis';
import { RedisConnections } from '../src/redis/redis-connections';
import { ENTRY_COST, ReadHub } from '../src/streams/read-hub.service';
import { useService } from './harness';
import { TestSocket } from './support/ws-client';

/** Adds entries straight to Redis (the test's own connection), returning their ids. */
async function seed(redis: Redis, key: string, payloads: (string | Buffer)[]): Promise<string[]> {
  const pipe = redis.pipeline();
  for (const p of payloads) pipe.xadd(key, '*', 'd', p);
  return (await pipe.exec())!.map(([, id]) => id as string);
}

describe('WebSocket pull', () => {
  const ctx = useService({ STREAM_MAXLEN: '0' }, ['--enable-debug-command', 'yes']);
  let n = 0;
  const sid = (): string => `p${++n}`;

  const pull = (path: string, query = ''): Promise<TestSocket> =>
    TestSocket.open(`${ctx.svc.ws}/data/${path}/pull${query}`, ctx.token);

  it('reads 10,000 entries of history from 0 in order, none skipped or repeated, then the tail', async () => {
    const s = sid();
    const ids = await seed(
      ctx.redis,
      `default:${s}`,
      Array.from({ length: 10000 }, (_, i) => String(i)),
    );
    const ws = await pull(s, '?last_entry_id=0&count=500');
    const got: { id: string; data: string }[] = [];
    while (got.length < 10000) {
      for (const e of await ws.message()) got.push({ id: e.id, data: e.data.toString() });
    }
    expect(got.map((e) => e.id)).toEqual(ids);
    expect(got.map((e) => e.data)).toEqual(ids.map((_, i) => String(i)));
    // History came over the service's history connection (its last command an XRANGE).
    expect(await ctx.redis.client('LIST')).toMatch(/name=redis-streamer:history .*cmd=xrange/);
    // catch-up → tail hand-over: the next entries arrive once, in order
    const more = await seed(ctx.redis, `default:${s}`, ['a', 'b', 'c']);
    const tail: string[] = [];
    while (tail.length < 3) for (const e of await ws.message()) tail.push(e.id);
    expect(tail).toEqual(more);
    expect(await ws.silentFor(200)).toBe(true);
    ws.close();
  });

  it('count=1 catches up through more history than the ring holds while writes go on: every entry once, in order', async () => {
    const s = sid();
    const key = `default:${s}`;
    const hub = ctx.svc.app.get(ReadHub);
    await seed(
      ctx.redis,
      key,
      Array.from({ length: 6000 }, (_, i) => `h${i}`),
    );
    const ws = await pull(s, '?last_entry_id=0&count=1');
    // Writes while the reader is behind: it crosses from XRANGE pages into the hub's ring.
    for (let b = 0; b < 30; b++) {
      await seed(
        ctx.redis,
        key,
        Array.from({ length: 100 }, (_, i) => `t${b * 100 + i}`),
      );
    }
    const got: string[] = [];
    while (got.length < 9000) {
      const msg = await ws.message();
      expect(msg).toHaveLength(1);
      got.push(msg[0].id);
    }
    const stored = (await ctx.redis.xrange(key, '-', '+')).map(([id]) => id);
    expect(got).toEqual(stored);
    expect(await ws.silentFor(100)).toBe(true);
    expect(hub.readAheadBytes).toBe(0);
    ws.close();
  });

  /** A reader from 0 of 3,000 entries of 1,000 B (behind the ring), with the hub's read-ahead before it opened. */
  async function readerBehindRing(query: string): Promise<{ s: string; hub: ReadHub; before: number; ws: TestSocket }> {
    const s = sid();
    const hub = ctx.svc.app.get(ReadHub);
    await seed(
      ctx.redis,
      `default:${s}`,
      Array.from({ length: 3000 }, () => Buffer.alloc(1000, 1)),
    );
    const before = hub.readAheadBytes;
    return { s, hub, before, ws: await pull(s, `?last_entry_id=0&${query}`) };
  }

  /** Waits (up to `ms`) for the hub's read-ahead to be back at `bytes`. */
  async function aheadBackTo(hub: ReadHub, bytes: number, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (hub.readAheadBytes !== bytes && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(hub.readAheadBytes).toBe(bytes);
  }

  it('releases read-ahead when a reader behind the ring goes away', async () => {
    const { hub, before, ws } = await readerBehindRing('count=1&ack=1');
    await ws.message();
    // The reader waits for the client's answer holding a page read ahead of its cursor.
    expect(hub.readAheadBytes).toBeGreaterThan(before);
    ws.close();
    await aheadBackTo(hub, before, 5000);
  });

  it('releases read-ahead when the reader goes away while its next page is still being read', async () => {
    const { s, hub, before, ws } = await readerBehindRing('count=300&ack=1');
    // A page of 1,000 entries is read; taking 300 leaves 700, more than half a page: no prefetch.
    expect(await ws.message()).toHaveLength(300);
    // With Redis stalled, the next 300 come from memory and the prefetch they start (400 left) waits.
    let woke = false;
    const stalled = ctx.redis.call('DEBUG', 'SLEEP', '2').then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 50));
    await ws.send('next');
    expect(await ws.message()).toHaveLength(300);
    // The next page has not landed: the reader holds the 400 entries left of the first.
    expect(hub.readAheadBytes - before).toBe(400 * (1000 + ENTRY_COST));
    ws.close();
    // The service sees the close while Redis still sleeps, and releases what the reader held.
    await aheadBackTo(hub, before, 1500);
    expect(woke).toBe(false);
    await stalled;
    // A read queued behind the late page on the history connection: once it is answered and the
    // promise callbacks have run, the page has been handled (and must not count as held by a
    // reader that is gone).
    await ctx.svc.app.get(RedisConnections).history.xrange(`default:${s}`, '-', '+', 1);
    await new Promise((r) => setImmediate(r));
    expect(hub.readAheadBytes).toBe(before);
  });

  it('$ (the default) starts after the newest entry, and nothing is sent while idle', async () => {
    const s = sid();
    await seed(ctx.redis, `default:${s}`, ['old1', 'old2']);
    const ws = await pull(s);
    expect(await ws.silentFor(300)).toBe(true);
    const [id] = await seed(ctx.redis, `default:${s}`, ['new']);
    const msg = await ws.message();
    expect(msg).toEqual([{ streamId: s, id, data: Buffer.from('new') }]);
    ws.close();
  });

  it('waits on a stream that does not exist yet', async () => {
    const s = sid();
    const ws = await pull(s);
    await new Promise((r) => setTimeout(r, 100));
    const [id] = await seed(ctx.redis, `default:${s}`, ['first']);
    expect((await ws.message())[0].id).toBe(id);
    ws.close();
  });

  it('keeps a cursor per stream on a+b, with last_entry_id per stream (%2B and space)', async () => {
    const a = sid();
    const b = sid();
    const ia = await seed(ctx.redis, `default:${a}`, ['a1', 'a2', 'a3']);
    const ib = await seed(ctx.redis, `default:${b}`, ['b1', 'b2']);
    for (const sep of ['%2B', '+']) {
      const ws = await pull(`${a}+${b}`, `?count=10&last_entry_id=${ia[0]}${sep}0`);
      const msg = await ws.message();
      expect(msg.map((e) => [e.streamId, e.data.toString()])).toEqual([
        [a, 'a2'],
        [a, 'a3'],
        [b, 'b1'],
        [b, 'b2'],
      ]);
      expect(msg.map((e) => e.id)).toEqual([ia[1], ia[2], ib[0], ib[1]]);
      ws.close();
    }
  });

  it('accepts millisecond and ISO-8601 cursors (entries at or after that time)', async () => {
    const s = sid();
    const key = `default:${s}`;
    for (const id of ['1000-0', '2000-0', '2000-1', '3000-0']) await ctx.redis.xadd(key, id, 'd', id);
    for (const cursor of ['2000', new Date(2000).toISOString()]) {
      const ws = await pull(s, `?count=10&last_entry_id=${encodeURIComponent(cursor)}`);
      expect((await ws.message()).map((e) => e.id)).toEqual(['2000-0', '2000-1', '3000-0']);
      ws.close();
    }
  });

  it('latest=1 skips a backlog and sends only the newest entry', async () => {
    const s = sid();
    const ids = await seed(ctx.redis, `default:${s}`, ['1', '2', '3', '4', '5']);
    const ws = await pull(s, '?latest=1&last_entry_id=0');
    expect((await ws.message()).map((e) => e.id)).toEqual([ids[4]]);
    expect(await ws.silentFor(200)).toBe(true);
    const more = await seed(ctx.redis, `default:${s}`, ['6']);
    expect((await ws.message()).map((e) => e.id)).toEqual(more);
    ws.close();
  });

  it('offsets=end gives end offsets; header=0 sends the payload alone', async () => {
    const s = sid();
    await seed(ctx.redis, `default:${s}`, ['aa', 'bbb']);
    const ws = await pull(s, '?last_entry_id=0&count=5&offsets=end');
    const header = JSON.parse(await ws.nextText()) as [string, string, number][];
    expect(header.map((h) => h[2])).toEqual([2, 5]);
    expect((await ws.next()).data.toString()).toBe('aabbb');
    ws.close();
    const raw = await pull(s, '?last_entry_id=0&header=0');
    const f1 = await raw.next();
    const f2 = await raw.next();
    expect([f1.binary, f1.data.toString(), f2.data.toString()]).toEqual([true, 'aa', 'bbb']);
    raw.close();
  });

  it('ack=1 sends the next message only after the client answers', async () => {
    const s = sid();
    await seed(ctx.redis, `default:${s}`, ['1', '2', '3']);
    const ws = await pull(s, '?last_entry_id=0&ack=1');
    expect((await ws.message())[0].data.toString()).toBe('1');
    expect(await ws.silentFor(200)).toBe(true);
    await ws.send('ok');
    expect((await ws.message())[0].data.toString()).toBe('2');
    ws.close();
  });

  it('refuses bad queries and forbidden or malformed ids before accepting', async () => {
    for (const [path, query, status] of [
      ['x', '?count=0', 400],
      ['x', '?count=10001', 400],
      ['x', '?latest=perhaps', 400],
      ['x', '?last_entry_id=yesterday', 400],
      ['x', '?header=0&count=5', 400],
      ['x+y', '?last_entry_id=0%2B0%2B0', 400],
      ['x', '?offsets=middle', 400],
      ['bad..id', '', 400],
    ] as const) {
      await expect(pull(path, query)).rejects.toMatchObject({ status });
    }
    await expect(TestSocket.open(`${ctx.svc.ws}/data/x/pull`)).rejects.toMatchObject({ status: 401 });
  });
});
