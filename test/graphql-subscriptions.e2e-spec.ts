import Redis from 'ioredis';
import { startTestbed, Subscription, Testbed, wsClient } from './graphql-client';
import { MAX_OPERATIONS } from '../src/graphql/subscription.server';
import { ReadHub } from '../src/streams/read-hub.service';
import { TestApp, tokenFor } from './harness';

const DATA = `subscription ($ids: [String!]!, $last: String, $count: Int! = 1, $device: String = "default") {
  data(streamIds: $ids, lastEntryId: $last, count: $count, deviceId: $device) { streamId id time data string json }
}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connectedClients(redis: Redis): Promise<number> {
  return String(await redis.client('LIST'))
    .trim()
    .split('\n').length;
}

describe('GraphQL data subscription', () => {
  let bed: Testbed;
  let svc: TestApp;
  let plain: Redis;
  let token: string;
  const clients: ReturnType<typeof wsClient>[] = [];
  const client = () => {
    const c = wsClient(svc.ws, { Authorization: `Bearer ${token}` });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    bed = await startTestbed();
    ({ svc, plain } = bed);
    token = await tokenFor(svc.http);
  });
  afterAll(async () => {
    await Promise.all(clients.map(async (c) => c.dispose()));
    await bed.close();
  });

  it('delivers pushed entries in order, with every field', async () => {
    await plain.xadd('default:temp', '*', 'd', 'history');
    const sub = new Subscription(client(), DATA, { ids: ['temp'] });
    // Subscribed at `$`: it gets what is pushed once it runs. Probe until it does.
    while (sub.results.length === 0) {
      await plain.xadd('default:temp', '*', 'd', 'probe');
      await sleep(50);
    }
    await sleep(200); // let probes in flight arrive
    const seen = sub.results.length;
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await plain.xadd('default:temp', '*', 'd', JSON.stringify({ i })))!);
    await plain.xadd('default:temp', '*', 'd', Buffer.from([0xff, 0x01]));
    const results = (await sub.take(seen + 21)).slice(seen);
    expect(sub.results.slice(0, seen).every((r) => r.data!.data.string === 'probe')).toBe(true);
    expect(results.map((r) => r.data!.data.id)).toEqual([...ids, expect.any(String)]);
    expect(results[3].data!.data).toEqual({
      streamId: 'temp',
      id: ids[3],
      time: new Date(Number(ids[3].split('-')[0])).toISOString(),
      data: Buffer.from('{"i":3}').toString('base64'),
      string: '{"i":3}',
      json: { i: 3 },
    });
    expect(results[20].data!.data).toMatchObject({ data: '/wE=', string: null, json: null });
    sub.stop();
    const metrics = await (
      await fetch(`${svc.http}/metrics`, { headers: { authorization: `Bearer ${token}` } })
    ).text();
    const pulled = /^entries_pulled_total\{transport="graphql"\} (\d+)/m.exec(metrics);
    expect(Number(pulled?.[1])).toBeGreaterThanOrEqual(21);
  });

  it('replays from lastEntryId and interleaves several streams, each in order', async () => {
    const a1 = await plain.xadd('lab:a', '*', 'd', 'a1');
    await plain.xadd('lab:b', '*', 'd', 'b1');
    await plain.xadd('lab:a', '*', 'd', 'a2');
    const sub = new Subscription(client(), DATA, { ids: ['a', 'b'], last: '0', count: 10, device: 'lab' });
    await sub.take(3);
    await plain.xadd('lab:b', '*', 'd', 'b2');
    const got = (await sub.take(4)).map((r) => `${r.data!.data.streamId}:${r.data!.data.string}`);
    expect(got.filter((s) => s.startsWith('a:'))).toEqual(['a:a1', 'a:a2']);
    expect(got.filter((s) => s.startsWith('b:'))).toEqual(['b:b1', 'b:b2']);
    sub.stop();

    const after = new Subscription(client(), DATA, { ids: ['a'], last: a1, device: 'lab' });
    expect((await after.take(1)).map((r) => r.data!.data.string)).toEqual(['a2']);
    after.stop();
  });

  it('follows a glob, picking up streams the service creates after subscribing', async () => {
    // Through the service's write path, which announces new streams on :event:stream.created.
    const push = async (sid: string, body: string) => {
      const res = await fetch(`${svc.http}/data/${sid}?device_id=site`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        body,
      });
      expect(res.status).toBe(201);
    };
    await push('imu-old', 'old');
    const sub = new Subscription(client(), DATA, { ids: ['imu*'], device: 'site' });
    while (sub.results.length === 0) {
      await push('imu-old', 'probe');
      await sleep(50);
    }
    await sleep(200); // let probes in flight arrive
    const seen = sub.results.length;
    await push('cam', 'not matched');
    await push('imu-new', 'n1');
    await push('imu-new', 'n2');
    await push('imu-old', 'o2');
    const got = (await sub.take(seen + 3)).slice(seen).map((r) => `${r.data!.data.streamId}:${r.data!.data.string}`);
    expect(got.sort()).toEqual(['imu-new:n1', 'imu-new:n2', 'imu-old:o2']);
    sub.stop();
  });

  it('serves 200 subscribers from one Redis reader', async () => {
    const before = await connectedClients(plain);
    // A fixed cursor: whenever each subscription starts, it gets exactly the entries after it.
    const start = (await plain.xadd('default:fan', '*', 'd', 'before'))!;
    const ws = Array.from({ length: 20 }, () => client());
    const subs = ws.flatMap((c) =>
      Array.from({ length: 10 }, () => new Subscription(c, DATA, { ids: ['fan'], last: start })),
    );
    const pushed: string[] = [];
    for (let i = 0; i < 5; i++) pushed.push((await plain.xadd('default:fan', '*', 'd', `m${i}`))!);
    const all = await Promise.all(subs.map((s) => s.take(5, 10000)));
    for (const results of all) expect(results.map((r) => r.data!.data.id)).toEqual(pushed);
    expect(await connectedClients(plain)).toBe(before);
    subs.forEach((s) => s.stop());
  });

  it(`refuses more than ${MAX_OPERATIONS} operations at once on one connection`, async () => {
    const c = client();
    const subs = Array.from({ length: MAX_OPERATIONS }, () => new Subscription(c, DATA, { ids: ['many'] }));
    const extra = new Subscription(c, DATA, { ids: ['many'] });
    await extra.take(1, 3000);
    expect((extra.error as { extensions: { code: string } }[])[0].extensions.code).toBe('LIMIT_EXCEEDED');
    expect(subs.some((s) => s.done)).toBe(false);
    subs[0].stop();
    await sleep(100);
    const again = new Subscription(c, DATA, { ids: ['many'] });
    await again.take(1, 300);
    expect(again.done).toBe(false);
    await Promise.resolve(c.dispose());
  });

  it('releases its read-hub reader when the subscription completes or the socket closes', async () => {
    // Internal state of the hub: how many readers follow each stream.
    const hub: unknown = svc.app.get(ReadHub);
    const refs = (key: string) => (hub as { tails: Map<string, { refs: number }> }).tails.get(key)?.refs;
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 100 && !ok(); i++) await sleep(20);
      return ok();
    };
    const c = client();
    const one = new Subscription(c, DATA, { ids: ['short'] });
    const two = new Subscription(c, DATA, { ids: ['short'] });
    expect(await until(() => refs('default:short') === 2)).toBe(true);
    one.stop();
    expect(await until(() => refs('default:short') === 1)).toBe(true);
    await Promise.resolve(c.dispose());
    expect(await until(() => refs('default:short') === 0)).toBe(true);
    expect(two.done).toBe(true);
  });
});

describe('GraphQL subscriptions at shutdown', () => {
  it('close with 1001 and let the app stop at once', async () => {
    const { svc, close, closeApp } = await startTestbed();
    try {
      const token = await tokenFor(svc.http);
      const client = wsClient(svc.ws, { Authorization: `Bearer ${token}` });
      const sub = new Subscription(client, DATA, { ids: ['x'] });
      await sub.take(1, 300);
      const started = Date.now();
      await closeApp();
      expect(Date.now() - started).toBeLessThan(3000);
      expect((await client.closed).code).toBe(1001);
    } finally {
      await close();
    }
  });
});
