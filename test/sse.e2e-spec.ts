import Redis from 'ioredis';
import { RequestLifetimes } from '../src/data-gateway/request-lifetimes.service';
import { redisClient, startApp, startRedis, TestApp, tokenFor } from './harness';
import { SseClient } from './support/sse-client';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Server-Sent Events: GET /data/{stream_id}/events', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: TestApp;
  let token: string;
  let r: Redis;
  const open: SseClient[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    svc = await startApp(redis.url, { STREAM_MAXLEN: '0' });
    token = await tokenFor(svc.http);
    r = redisClient(redis.url);
  });
  afterEach(() => open.splice(0).forEach((c) => c.destroy()));
  afterAll(async () => {
    r.disconnect();
    await svc.close();
    await redis.cleanup();
  });

  const connect = async (path: string, headers: Record<string, string> = {}): Promise<SseClient> => {
    const client = await SseClient.connect(`${svc.http}${path}`, { Authorization: `Bearer ${token}`, ...headers });
    open.push(client);
    return client;
  };

  it('streams entries with id = entry id, text payloads split into data lines, and the SSE headers', async () => {
    await r.xadd('default:text', '1-0', 'd', 'hello');
    await r.xadd('default:text', '2-0', 'd', 'two\nlines');
    await r.xadd('default:text', '3-0', 'd', '{"t": 21.5}');
    const es = await connect('/data/text/events?last_entry_id=0');
    expect(es.status).toBe(200);
    expect(es.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(es.headers['cache-control']).toBe('no-cache, no-transform');
    expect(es.headers['x-accel-buffering']).toBe('no');
    await es.until(() => es.events.length === 3);
    expect(es.retry).toBe(1000);
    expect(es.events).toEqual([
      { id: '1-0', event: 'message', data: 'hello' },
      { id: '2-0', event: 'message', data: 'two\nlines' },
      { id: '3-0', event: 'message', data: '{"t": 21.5}' },
    ]);
    const id = (await r.xadd('default:text', '*', 'd', 'live')) as string;
    await es.until(() => es.events.length === 4);
    expect(es.events[3]).toEqual({ id, event: 'message', data: 'live' });
  });

  it('sends binary payloads exactly with encoding=base64, token in the query as a browser would', async () => {
    const bytes = Buffer.from([0, 255, 10, 13, 128, 7]);
    await r.xadd(Buffer.from('default:bin'), '5-0', 'd', bytes);
    const es = await SseClient.connect(`${svc.http}/data/bin/events?last_entry_id=0&encoding=base64&token=${token}`);
    open.push(es);
    await es.until(() => es.events.length === 1);
    expect(Buffer.from(es.events[0].data, 'base64')).toEqual(bytes);
  });

  it('starts at $ by default and sends keep-alive comments while idle', async () => {
    await r.xadd('default:idle', '1-0', 'd', 'old');
    const es = await connect('/data/idle/events?heartbeat=1000');
    await es.until(() => es.comments.includes('keep-alive'), 3000);
    expect(es.events).toEqual([]);
    await r.xadd('default:idle', '2-0', 'd', 'new');
    await es.until(() => es.events.length === 1);
    expect(es.events[0]).toEqual({ id: '2-0', event: 'message', data: 'new' });
  });

  it('resumes with Last-Event-ID after a forced disconnect: nothing lost, nothing repeated', async () => {
    const total = 600;
    const written: string[] = [];
    const writer = (async () => {
      for (let i = 0; i < total; i++) {
        written.push((await r.xadd('default:resume', '*', 'd', `n${i}`)) as string);
        if (i % 20 === 0) await sleep(5);
      }
    })();
    const received: { id: string; data: string }[] = [];
    let lastEventId = '';
    let rounds = 0;
    for (; rounds < 20 && received.length < total; rounds++) {
      const es = await connect(
        '/data/resume/events?last_entry_id=0',
        lastEventId ? { 'Last-Event-ID': lastEventId } : {},
      );
      // cut the connection after a random share of what is left
      const stopAt = Math.min(total, received.length + 50 + Math.floor(Math.random() * 100));
      await es.until(() => received.length + es.events.length >= stopAt, 10_000);
      es.destroy();
      for (const e of es.events) received.push({ id: e.id, data: e.data });
      lastEventId = es.lastEventId;
    }
    await writer;
    expect(rounds).toBeGreaterThanOrEqual(4);
    expect(received.map((e) => e.id)).toEqual(written);
    expect(received.map((e) => e.data)).toEqual(written.map((_, i) => `n${i}`));
  });

  it('follows several streams: event names the stream, id carries every cursor, and resumes exactly', async () => {
    await r.xadd('default:sa', '10-0', 'd', 'a10');
    await r.xadd('default:sb', '5-0', 'd', 'b5');
    await r.xadd('default:sa', '20-0', 'd', 'a20');
    const es = await connect('/data/sa+sb/events?last_entry_id=0');
    await es.until(() => es.events.length === 3);
    expect(es.events).toEqual([
      { id: '0-0+5-0', event: 'sb', data: 'b5' },
      { id: '10-0+5-0', event: 'sa', data: 'a10' },
      { id: '20-0+5-0', event: 'sa', data: 'a20' },
    ]);
    es.destroy();
    await r.xadd('default:sb', '15-0', 'd', 'b15');
    const again = await connect('/data/sa+sb/events?last_entry_id=0', { 'Last-Event-ID': es.lastEventId });
    await again.until(() => again.events.length === 1);
    await sleep(100);
    expect(again.events).toEqual([{ id: '20-0+15-0', event: 'sb', data: 'b15' }]);
  });

  it('with latest=1 skips a backlog to the newest entry', async () => {
    for (let i = 1; i <= 50; i++) await r.xadd('default:lat', `${i}-0`, 'd', `v${i}`);
    const es = await connect('/data/lat/events?last_entry_id=0&latest=1');
    await es.until(() => es.events.length === 1);
    await sleep(100);
    expect(es.events).toEqual([{ id: '50-0', event: 'message', data: 'v50' }]);
  });

  it('frees the reader as soon as the client goes away', async () => {
    const lifetimes = svc.app.get(RequestLifetimes);
    const clients = await Promise.all(Array.from({ length: 10 }, () => connect('/data/gone/events')));
    expect(lifetimes.size).toBe(10);
    clients.forEach((c) => c.destroy());
    const t0 = Date.now();
    while (lifetimes.size > 0 && Date.now() - t0 < 2000) await sleep(5);
    expect(lifetimes.size).toBe(0);
  });

  it('ends open event streams and long-polls at once when the service shuts down', async () => {
    const other = await startApp(redis.url, { STREAM_MAXLEN: '0' });
    const otherToken = await tokenFor(other.http);
    const es = await SseClient.connect(`${other.http}/data/shut/events?token=${otherToken}`);
    const poll = fetch(`${other.http}/data/shut?block=30000&token=${otherToken}`);
    while (other.app.get(RequestLifetimes).size < 2) await sleep(10);
    const t0 = Date.now();
    await other.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect((await poll).status).toBe(204);
    await es.until(() => es.ended).catch(() => undefined);
    expect(es.ended).toBe(true);
  });

  it('answers errors before the stream starts as JSON: 401, 400', async () => {
    const anon = await SseClient.connect(`${svc.http}/data/text/events`);
    expect([anon.status, JSON.parse((await anon.until(() => anon.ended).catch(() => undefined), anon.body))]).toEqual([
      401,
      { detail: expect.stringMatching(/token/) },
    ]);
    for (const [path, headers] of [
      ['/data/text/events', { 'Last-Event-ID': 'garbage' }],
      ['/data/text/events?encoding=hex', {}],
      ['/data/text/events?heartbeat=10', {}],
      ['/data/a+b/events', { 'Last-Event-ID': '1-0+2-0+3-0' }],
    ] as const) {
      const es = await connect(path, headers);
      await es.until(() => es.ended).catch(() => undefined);
      expect([path, es.status, typeof JSON.parse(es.body).detail]).toEqual([path, 400, 'string']);
    }
  });

  it('serves every readable stream of a device on /data/*/events, including streams created later', async () => {
    const post = (sid: string, body: string): Promise<Response> =>
      fetch(`${svc.http}/data/${sid}?device_id=site9`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        body,
      });
    expect((await post('temp', 't1')).status).toBe(201);
    const es = await connect('/data/*/events?device_id=site9&last_entry_id=0');
    const imu = await connect('/data/im*/events?device_id=site9&last_entry_id=0');
    await es.until(() => es.events.length === 1);
    expect((await post('imu', 'i1')).status).toBe(201); // created after both connected
    expect((await post('temp', 't2')).status).toBe(201);
    await es.until(() => es.events.length === 3);
    expect(es.events.map((e) => [e.event, e.data])).toEqual([
      ['temp', 't1'],
      ['imu', 'i1'],
      ['temp', 't2'],
    ]);
    await imu.until(() => imu.events.length === 1);
    await sleep(200);
    expect(imu.events.map((e) => [e.event, e.data])).toEqual([['imu', 'i1']]);
  });
});
