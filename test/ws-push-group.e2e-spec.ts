import Redis from 'ioredis';
import { AuthUser } from '../src/auth/auth-user';
import { compareIds } from '../src/redis/entry-id';
import { CREATED_EVENTS } from '../src/redis/scripts';
import { StreamWriter } from '../src/streams/stream-writer.service';
import { useService } from './harness';
import { TestSocket } from './support/ws-client';

/** Group commit: the writes of one event-loop turn reach Redis as one call, each on its own. */

async function entries(redis: Redis, key: string): Promise<{ id: string; data: Buffer }[]> {
  const raw = (await redis.xrangeBuffer(key, '-', '+')) as [Buffer, Buffer[]][];
  return raw.map(([id, fields]) => ({ id: id.toString(), data: fields[1] }));
}

/** EVAL + EVALSHA calls Redis has served so far. */
async function scriptCalls(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  let calls = 0;
  for (const m of stats.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)) calls += Number(m[1]);
  return calls;
}

const user: AuthUser = { username: 'tester', read: [/.*/], write: [/.*/], admin: false, dev: true };

describe('WebSocket push: group commit', () => {
  const ctx = useService({ STREAM_MAXLEN: '0' });
  let writer: StreamWriter;
  let n = 0;
  const sid = (): string => `g${++n}`;
  /** One write of auto-id entries, `[stream id, payload]` each. */
  const writeBatch = (batch: [string, string][]): Promise<string[]> =>
    writer.write(
      user,
      'default',
      batch.map(([streamId, data]) => ({ streamId, id: null, data: Buffer.from(data) })),
      'ws',
    );
  const write = (streamId: string, data: string, id: string | null = null): Promise<string[]> =>
    writer.write(user, 'default', [{ streamId, id, data: Buffer.from(data) }], 'ws');

  beforeAll(() => {
    writer = ctx.svc.app.get(StreamWriter);
  });

  it('many sockets pushing at once: every entry stored once, in order, with its own acked id', async () => {
    const sockets = 8;
    const frames = 300;
    const streams = Array.from({ length: sockets }, sid);
    const shared = sid();
    const conns = await Promise.all(
      [...streams, ...streams].map((s, i) =>
        TestSocket.open(`${ctx.svc.ws}/data/${i < sockets ? s : shared}/push?ack=1`, ctx.token),
      ),
    );
    const payload = (socket: number, i: number): Buffer => Buffer.from(`${socket}:${i}:${'x'.repeat(i % 50)}`);
    const before = await scriptCalls(ctx.redis);
    // Every socket sends all its frames without waiting, so the service reads many per turn.
    await Promise.all(
      conns.map((ws, c) => Promise.all(Array.from({ length: frames }, (_, i) => ws.send(payload(c, i))))),
    );
    const acks = await Promise.all(
      conns.map(async (ws) => Promise.all(Array.from({ length: frames }, () => ws.nextText()))),
    );
    expect(await scriptCalls(ctx.redis)).toBeLessThan(before + (2 * sockets * frames) / 2);

    for (let c = 0; c < 2 * sockets; c++) {
      const ids = acks[c];
      for (let i = 1; i < ids.length; i++) expect(compareIds(ids[i - 1], ids[i])).toBeLessThan(0);
    }
    for (let c = 0; c < sockets; c++) {
      const stored = await entries(ctx.redis, `default:${streams[c]}`);
      expect(stored.map((e) => e.id)).toEqual(acks[c]);
      expect(stored.map((e) => e.data)).toEqual(Array.from({ length: frames }, (_, i) => payload(c, i)));
    }
    // The shared stream holds each of its sockets' entries once, each socket's in its order.
    const stored = await entries(ctx.redis, `default:${shared}`);
    expect(stored).toHaveLength(sockets * frames);
    for (let c = sockets; c < 2 * sockets; c++) {
      const mine = stored.filter((e) => e.data.toString().startsWith(`${c}:`));
      expect(mine.map((e) => e.id)).toEqual(acks[c]);
      expect(mine.map((e) => e.data)).toEqual(Array.from({ length: frames }, (_, i) => payload(c, i)));
    }
    conns.forEach((ws) => ws.close());
  });

  it('writes of one turn are one Redis call; a write to a key that is not a stream fails alone', async () => {
    const [a, b] = [sid(), sid()];
    await ctx.redis.set('default:not-a-stream', 'x');
    // Retention settings cached (a write that must fetch them starts a new group).
    await Promise.allSettled([write(a, 'warm-up'), write(b, 'warm-up'), write('not-a-stream', 'warm-up')]);
    const before = await scriptCalls(ctx.redis);
    const results = await Promise.allSettled([
      write(a, 'a1'),
      write(b, 'b1'),
      write('not-a-stream', 'bad'),
      write(a, 'a2'),
      writeBatch([
        [b, 'b2'],
        ['not-a-stream', 'bad'],
      ]),
      write(b, 'b3'),
    ]);
    expect(await scriptCalls(ctx.redis)).toBe(before + 1);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    expect(String((results[4] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    const ids = (i: number): string[] => (results[i] as PromiseFulfilledResult<string[]>).value;
    expect((await entries(ctx.redis, `default:${a}`)).slice(1)).toEqual([
      { id: ids(0)[0], data: Buffer.from('a1') },
      { id: ids(3)[0], data: Buffer.from('a2') },
    ]);
    // Nothing of the refused two-entry write: b2 is not stored.
    expect((await entries(ctx.redis, `default:${b}`)).slice(1)).toEqual([
      { id: ids(1)[0], data: Buffer.from('b1') },
      { id: ids(5)[0], data: Buffer.from('b3') },
    ]);
    expect(await ctx.redis.get('default:not-a-stream')).toBe('x');
  });

  it('a stream whose ids are used up (by another tool) fails only the writes to it', async () => {
    const a = sid();
    await ctx.redis.xadd('default:full', '18446744073709551615-18446744073709551615', 'd', 'x');
    await Promise.allSettled([write(a, 'warm-up'), write('full', 'warm-up')]);
    const before = await scriptCalls(ctx.redis);
    const results = await Promise.allSettled([
      write(a, 'a1'),
      writeBatch([
        [a, 'a2'],
        [a, 'a3'],
      ]),
      write('full', 'bad'),
      write(a, 'a4'),
    ]);
    expect(await scriptCalls(ctx.redis)).toBe(before + 1);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/exhausted/i);
    const ids = (i: number): string[] => (results[i] as PromiseFulfilledResult<string[]>).value;
    expect((await entries(ctx.redis, `default:${a}`)).slice(1)).toEqual([
      { id: ids(0)[0], data: Buffer.from('a1') },
      { id: ids(1)[0], data: Buffer.from('a2') },
      { id: ids(1)[1], data: Buffer.from('a3') },
      { id: ids(3)[0], data: Buffer.from('a4') },
    ]);
    expect(await ctx.redis.xlen('default:full')).toBe(1);
  });

  it('a socket pushing to a key that is not a stream closes with 1011; a concurrent socket is all stored and acked', async () => {
    const good = sid();
    await ctx.redis.set('default:wrong', 'x');
    const ok = await TestSocket.open(`${ctx.svc.ws}/data/${good}/push?ack=1`, ctx.token);
    const bad = await TestSocket.open(`${ctx.svc.ws}/data/wrong/push?ack=1`, ctx.token);
    const frames = 200;
    await Promise.all([
      ...Array.from({ length: frames }, (_, i) => ok.send(Buffer.from(`ok${i}`))),
      ...Array.from({ length: 5 }, () => bad.send(Buffer.from('bad')).catch(() => undefined)),
    ]);
    const closed = await bad.closedWith();
    expect(closed.code).toBe(1011);
    expect(closed.reason).toMatch(/not a stream/);
    expect(bad.frames).toEqual([]);
    const acks = await Promise.all(Array.from({ length: frames }, () => ok.nextText()));
    const stored = await entries(ctx.redis, `default:${good}`);
    expect(stored.map((e) => e.id)).toEqual(acks);
    expect(stored.map((e) => e.data.toString())).toEqual(Array.from({ length: frames }, (_, i) => `ok${i}`));
    expect(await ctx.redis.get('default:wrong')).toBe('x');
    ok.close();
  });

  it('a refused batch behind pipelined ones: their acks first, in order, then the close', async () => {
    const s = sid();
    const ws = await TestSocket.open(`${ctx.svc.ws}/data/${s}/push?ack=1`, ctx.token);
    const frames: (string | Buffer)[] = ['one', 'two', 'three'].map((x) => Buffer.from(x));
    frames.push(JSON.stringify([[s, '1-1', 0]]), Buffer.from('too small'), Buffer.from('after'));
    await Promise.all(frames.map((f) => ws.send(f).catch(() => undefined)));
    const acks = [await ws.nextText(), await ws.nextText(), await ws.nextText()];
    const closed = await ws.closedWith();
    expect(closed.code).toBe(1011);
    expect(closed.reason).toMatch(/id/);
    expect(ws.frames).toEqual([]);
    const stored = await entries(ctx.redis, `default:${s}`);
    expect(stored.slice(0, 3)).toEqual(acks.map((id, i) => ({ id, data: frames[i] })));
    expect(stored.map((e) => e.data.toString())).not.toContain('too small');
  });

  it('explicit ids interleaved with auto ids keep call order and are checked against the writes before them', async () => {
    const s = sid();
    const future = `${Date.now() + 10_000_000}-0`;
    const results = await Promise.allSettled([
      write(s, 'auto1'),
      write(s, 'explicit', future),
      write(s, 'auto2'),
      write(s, 'too small', '1-1'),
      write(s, 'auto3'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[3] as PromiseRejectedResult).reason)).toMatch(/^ReplyError: IDTOOSMALL/);
    const ids = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    expect(ids[1]).toBe(future);
    const stored = await entries(ctx.redis, `default:${s}`);
    expect(stored.map((e) => e.id)).toEqual(ids);
    expect(stored.map((e) => e.data.toString())).toEqual(['auto1', 'explicit', 'auto2', 'auto3']);
    for (let i = 1; i < ids.length; i++) expect(compareIds(ids[i - 1], ids[i])).toBeLessThan(0);
  });

  it('announces only the new streams whose write was stored', async () => {
    const [made, refused] = [sid(), sid()];
    await ctx.redis.set('default:wrong2', 'x');
    const results = await Promise.allSettled([
      write(made, 'one'),
      writeBatch([
        [refused, 'two'],
        ['wrong2', 'bad'],
      ]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(await ctx.redis.exists(`default:${refused}`)).toBe(0);
    const announced = (await entries(ctx.redis, CREATED_EVENTS)).map((e) => e.data.toString());
    expect(announced).toContain(`default:${made}`);
    expect(announced).not.toContain(`default:${refused}`);
  });

  it('writes behind retention fetches keep call order and are all stored', async () => {
    const [known, fresh1, fresh2] = [sid(), sid(), sid()];
    await write(known, '0');
    const results = await Promise.all([
      write(known, '1'),
      write(fresh1, 'a'),
      write(known, '2'),
      write(fresh2, 'b'),
      write(known, '3'),
    ]);
    expect((await entries(ctx.redis, `default:${known}`)).slice(1)).toEqual(
      [0, 2, 4].map((i, n) => ({ id: results[i][0], data: Buffer.from(String(n + 1)) })),
    );
    expect((await entries(ctx.redis, `default:${fresh1}`)).map((e) => e.id)).toEqual(results[1]);
    expect((await entries(ctx.redis, `default:${fresh2}`)).map((e) => e.id)).toEqual(results[3]);
    // Stored in call order: each id is at least the one before it in time.
    const times = results.map(([id]) => Number(id.split('-')[0]));
    expect([...times].sort((x, y) => x - y)).toEqual(times);

    // The same on one stream, where order is visible: writes that also name a stream whose
    // settings are not cached yet must not be overtaken by the writes called after them.
    const [log, fresh3, fresh4] = [sid(), sid(), sid()];
    await write(log, '0');
    const ordered = await Promise.all([
      writeBatch([
        [log, '1'],
        [fresh3, 'c'],
      ]),
      write(log, '2'),
      writeBatch([
        [log, '3'],
        [fresh4, 'd'],
      ]),
      write(log, '4'),
    ]);
    expect((await entries(ctx.redis, `default:${log}`)).slice(1)).toEqual(
      ordered.map((ids, n) => ({ id: ids[0], data: Buffer.from(String(n + 1)) })),
    );
  });

  it('large single entries go as plain XADDs between the script calls, in call order', async () => {
    const s = sid();
    await write(s, 'warm-up');
    const big = (c: string): string => c.repeat(40 * 1024);
    const payloads = ['a', big('B'), 'c', 'd', big('E'), 'f'];
    const before = await scriptCalls(ctx.redis);
    const ids = await Promise.all(payloads.map((p) => write(s, p)));
    expect(await scriptCalls(ctx.redis)).toBe(before + 3);
    const stored = (await entries(ctx.redis, `default:${s}`)).slice(1);
    expect(stored.map((e) => e.id)).toEqual(ids.flat());
    expect(stored.map((e) => e.data.toString())).toEqual(payloads);
  });

  it('a group past 1,000 entries is sent at once, the rest at the end of the turn', async () => {
    const s = sid();
    await write(s, 'warm-up');
    const before = await scriptCalls(ctx.redis);
    const ids = await Promise.all(Array.from({ length: 1500 }, (_, i) => write(s, String(i))));
    expect(await scriptCalls(ctx.redis)).toBe(before + 2);
    const stored = await entries(ctx.redis, `default:${s}`);
    expect(stored.slice(1).map((e) => e.id)).toEqual(ids.flat());
    expect(stored.slice(1).map((e) => e.data.toString())).toEqual(Array.from({ length: 1500 }, (_, i) => String(i)));
  });
});
