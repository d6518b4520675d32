import Redis from 'ioredis';
import { useService } from './harness';
import { TestSocket } from './support/ws-client';

async function seed(redis: Redis, key: string, n: number, from = 0): Promise<string[]> {
  const pipe = redis.pipeline();
  for (let i = from; i < from + n; i++) pipe.xadd(key, '*', 'd', String(i));
  return (await pipe.exec())!.map(([, id]) => id as string);
}

describe('consumer groups and replays over WebSocket', () => {
  const ctx = useService({ STREAM_MAXLEN: '0' });

  const consume = (sid: string, query: string): Promise<TestSocket> =>
    TestSocket.open(`${ctx.svc.ws}/data/${sid}/pull?${query}`, ctx.token);

  it('two consumers split 10,000 entries with no overlap and no loss', async () => {
    const ids = await seed(ctx.redis, 'default:jobs', 10000);
    const a = await consume('jobs', 'group=workers&consumer=a&group_start=0&count=100');
    const b = await consume('jobs', 'group=workers&consumer=b&group_start=0&count=100');
    const got = { a: [] as string[], b: [] as string[] };
    const work = async (ws: TestSocket, into: string[]): Promise<void> => {
      while (got.a.length + got.b.length < 10000) {
        const msg = await ws.message(3000).catch(() => null);
        if (!msg) continue;
        into.push(...msg.map((e) => e.id));
        await ws.send(msg.map((e) => e.id).join(','));
      }
    };
    await Promise.all([work(a, got.a), work(b, got.b)]);
    expect(got.a.length).toBeGreaterThan(0);
    expect(got.b.length).toBeGreaterThan(0);
    expect(new Set([...got.a, ...got.b]).size).toBe(10000);
    expect([...got.a, ...got.b].sort()).toEqual([...ids].sort());
    await new Promise((r) => setTimeout(r, 100));
    const [pendingCount] = (await ctx.redis.xpending('default:jobs', 'workers')) as [number];
    expect(pendingCount).toBe(0);
    a.close();
    b.close();
  });

  it('replays a consumer its own pending entries first when it reconnects', async () => {
    const ids = await seed(ctx.redis, 'default:replay', 5);
    const c = await consume('replay', 'group=g&consumer=c1&group_start=0&count=5');
    const first = await c.message();
    expect(first.map((e) => e.id)).toEqual(ids);
    await c.send(`${ids[0]},${ids[1]}`);
    await new Promise((r) => setTimeout(r, 100));
    c.close();
    await c.closedWith();
    const more = await seed(ctx.redis, 'default:replay', 2, 5);
    const again = await consume('replay', 'group=g&consumer=c1&count=5');
    // The unacknowledged entries come first. An entry read for the closing socket just before it
    // went may be pending too and is replayed with them: at least once, nothing lost or doubled.
    const got: string[] = [];
    while (got.length < 5) got.push(...(await again.message()).map((e) => e.id));
    expect(got.slice(0, 3)).toEqual(ids.slice(2));
    expect(got).toEqual([...ids.slice(2), ...more]);
    again.close();
  });

  it('replays past pending entries that were trimmed meanwhile, acknowledging those', async () => {
    const ids = await seed(ctx.redis, 'default:trimmed', 5);
    const c = await consume('trimmed', 'group=g&consumer=t&group_start=0&count=2');
    const first: string[] = [];
    while (first.length < 5) first.push(...(await c.message()).map((e) => e.id));
    c.close();
    await c.closedWith();
    await ctx.redis.xdel('default:trimmed', ids[0], ids[1], ids[3]);
    const again = await consume('trimmed', 'group=g&consumer=t&count=2');
    const replayed: string[] = [];
    while (replayed.length < 2) replayed.push(...(await again.message()).map((e) => e.id));
    expect(replayed).toEqual([ids[2], ids[4]]);
    const [pendingCount] = (await ctx.redis.xpending('default:trimmed', 'g')) as [number];
    expect(pendingCount).toBe(2);
    again.close();
  });

  it('gives entries of a vanished consumer to a live one after claim_idle_ms', async () => {
    const ids = await seed(ctx.redis, 'default:claims', 3);
    const dead = await consume('claims', 'group=g&consumer=dies&group_start=0&count=10&claim_idle_ms=300');
    expect((await dead.message()).map((e) => e.id)).toEqual(ids);
    dead.ws.terminate();
    const live = await consume('claims', 'group=g&consumer=lives&count=10&claim_idle_ms=300');
    const started = Date.now();
    const claimed = await live.message(5000);
    expect(claimed.map((e) => e.id)).toEqual(ids);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    await live.send(ids.join(','));
    live.close();
  });

  it('moves a poison entry to {stream}:dead after max_deliveries, with its history, and acks it', async () => {
    const [id] = await seed(ctx.redis, 'default:poison', 1);
    const c = await consume('poison', 'group=g&consumer=p&group_start=0&claim_idle_ms=100&max_deliveries=3');
    for (let i = 0; i < 3; i++) expect((await c.message(5000))[0].id).toBe(id); // never acked
    const deadline = Date.now() + 5000;
    let dead: [string, string[]][] = [];
    while (dead.length === 0 && Date.now() < deadline) {
      dead = await ctx.redis.xrange('default:poison:dead', '-', '+');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(dead).toHaveLength(1);
    const fields = Object.fromEntries(
      dead[0][1].reduce<string[][]>((acc, v, i, all) => (i % 2 ? acc : [...acc, [v, all[i + 1]]]), []),
    );
    expect(fields).toMatchObject({ d: '0', source_id: id, group: 'g', consumer: 'p', deliveries: '3' });
    const [pendingCount] = (await ctx.redis.xpending('default:poison', 'g')) as [number];
    expect(pendingCount).toBe(0);
    c.close();
  });

  it('tells a generated consumer name, reports acks of ids never delivered, refuses bad acks and unknown groups', async () => {
    await seed(ctx.redis, 'default:misc', 1);
    const c = await consume('misc', 'group=g&group_start=0');
    expect(c.headers['x-consumer']).toMatch(/^c-[0-9a-f]{12}$/);
    const [entry] = await c.message();
    await c.send(`${entry.id},1-1`);
    expect(JSON.parse(await c.nextText())).toEqual({ error: 'not pending', ids: ['1-1'] });
    await c.send('not-an-id');
    expect((await c.closedWith()).code).toBe(1007);
    await expect(consume('misc', 'group=nope&create=false')).rejects.toMatchObject({ status: 404 });
    await expect(consume('misc', 'group=g&latest=1')).rejects.toMatchObject({ status: 400 });
    await expect(consume('misc', 'group=bad name')).rejects.toMatchObject({ status: 400 });
    // the entry acked above is no longer pending; nothing was lost
    const [pendingCount] = (await ctx.redis.xpending('default:misc', 'g')) as [number];
    expect(pendingCount).toBe(0);
    expect(await ctx.redis.xlen('default:misc')).toBe(1);
  });

  it('ack=auto reads at most once: nothing stays pending', async () => {
    const ids = await seed(ctx.redis, 'default:auto', 4);
    const c = await consume('auto', 'group=g&consumer=x&group_start=0&ack=auto&count=10');
    expect((await c.message()).map((e) => e.id)).toEqual(ids);
    const [pendingCount] = (await ctx.redis.xpending('default:auto', 'g')) as [number];
    expect(pendingCount).toBe(0);
    c.close();
  });

  it('replays a time range with last_entry_id and until, then closes with 1000', async () => {
    for (const id of ['1000-0', '2000-0', '3000-0', '4000-0', '5000-0'])
      await ctx.redis.xadd('default:rec', id, 'd', id);
    const from = new Date(2000).toISOString();
    const until = new Date(4000).toISOString();
    const c = await consume(
      'rec',
      `last_entry_id=${encodeURIComponent(from)}&until=${encodeURIComponent(until)}&count=2`,
    );
    const got: string[] = [];
    while (!c.closed || c.frames.length) {
      const msg = await c.message(3000).catch(() => null);
      if (!msg) break;
      got.push(...msg.map((e) => e.id));
    }
    expect(got).toEqual(['2000-0', '3000-0', '4000-0']);
    expect(await c.closedWith()).toEqual({ code: 1000, reason: 'replay complete' });
  });
});
