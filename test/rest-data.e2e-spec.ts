import Redis from 'ioredis';
import request from 'supertest';
import { RequestLifetimes } from '../src/data-gateway/request-lifetimes.service';
import { TestApp, useService } from './harness';
import { binary, splitEntries as split } from './support/rest';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('REST GET /data: the Redis Streamer README recipes and long-polls', () => {
  const ctx = useService({ STREAM_MAXLEN: '0', CORS_ORIGINS: 'https://dash.example' });
  let svc: TestApp;
  let token: string;
  let r: Redis;
  beforeAll(() => {
    ({ svc, token, redis: r } = ctx);
  });

  const get = (path: string, query: Record<string, string | number | boolean> = {}) =>
    request(svc.http).get(path).query(query).set('Authorization', `Bearer ${token}`).buffer(true).parse(binary);

  /** XADD with an explicit id; returns it. */
  const add = async (key: string, id: string, data: string): Promise<string> =>
    (await r.xadd(key, id, 'd', data)) as string;

  it('recipe: get messages from now (blocks 500 ms by default) -> 204 with a cursor', async () => {
    await add('default:now', '1000-0', 'old');
    const t0 = Date.now();
    const res = await get('/data/now').expect(204);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(res.headers['x-last-entry-id']).toBe('1000-0');
    expect(res.body).toEqual(Buffer.alloc(0));
  });

  it('recipe: the next data point after the cursor, then the next one', async () => {
    await add('default:seq', '2000-0', 'a');
    await add('default:seq', '2000-1', 'b');
    const first = await get('/data/seq', { last_entry_id: '2000-0' }).expect(200);
    expect(first.body.toString()).toBe('b');
    expect(first.headers['x-last-entry-id']).toBe('2000-1');
    expect(first.headers['content-type']).toBe('application/octet-stream');
    expect(JSON.parse(first.headers['x-offsets'])).toEqual([['seq', '2000-1', 0]]);
    expect(first.headers['entry-offset']).toBe(first.headers['x-offsets']);
    const second = await get('/data/seq', { last_entry_id: first.headers['x-last-entry-id'], block: 0 }).expect(204);
    expect(second.headers['x-last-entry-id']).toBe('2000-1');
  });

  it('recipe: the last data point in the queue, no matter how old (last_entry_id=0, latest=True)', async () => {
    for (let i = 1; i <= 5; i++) await add('default:old', `${i}-0`, `v${i}`);
    const res = await get('/data/old', { last_entry_id: '0', latest: 'True' }).expect(200);
    expect(res.body.toString()).toBe('v5');
    expect(res.headers['x-last-entry-id']).toBe('5-0');
  });

  it('recipe: read from the beginning of the queue', async () => {
    const res = await get('/data/old', { last_entry_id: '0' }).expect(200);
    expect(res.body.toString()).toBe('v1');
    expect(res.headers['x-last-entry-id']).toBe('1-0');
    const many = await get('/data/old', { last_entry_id: '0', count: 3 }).expect(200);
    expect(split(many.body, many.headers['x-offsets']).map((e) => e.data)).toEqual(['v1', 'v2', 'v3']);
  });

  it('recipe: the next message after a time (ms-0 id, bare ms and ISO-8601)', async () => {
    const t = Date.now() - 5 * 60 * 1000;
    await add('default:timed', `${t - 1000}-0`, 'before');
    await add('default:timed', `${t}-0`, 'at');
    await add('default:timed', `${t + 1000}-0`, 'after');
    const byId = await get('/data/timed', { last_entry_id: `${t}-0` }).expect(200);
    expect(byId.body.toString()).toBe('after');
    // a time means "at or after it"
    const byMs = await get('/data/timed', { last_entry_id: String(t) }).expect(200);
    expect(byMs.body.toString()).toBe('at');
    const byIso = await get('/data/timed', { last_entry_id: new Date(t).toISOString() }).expect(200);
    expect(byIso.body.toString()).toBe('at');
  });

  it('recipe: the latest message, ignoring anything older than a time', async () => {
    const t = Date.now() - 5 * 60 * 1000;
    const res = await get('/data/timed', { last_entry_id: `${t - 2000}-0`, latest: true }).expect(200);
    expect(res.body.toString()).toBe('after');
    const none = await get('/data/timed', { last_entry_id: `${t + 1000}-0`, latest: true, block: 0 }).expect(204);
    expect(none.headers['x-last-entry-id']).toBe(`${t + 1000}-0`);
  });

  it('recipe: block up to 5 s for the first message that comes in, woken within 50 ms of the push', async () => {
    const pending = get('/data/wake', { last_entry_id: '$', block: 5000 });
    const done = pending.then((res) => ({ res, at: Date.now() }));
    await sleep(300);
    const pushedAt = Date.now();
    const id = (await r.xadd('default:wake', '*', 'd', 'ping')) as string;
    const { res, at } = await done;
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ping');
    expect(res.headers['x-last-entry-id']).toBe(id);
    expect(at - pushedAt).toBeLessThan(50);
  });

  it('last_entry_id=* gives the newest count entries, oldest first', async () => {
    const res = await get('/data/old', { last_entry_id: '*', count: 2 }).expect(200);
    expect(split(res.body, res.headers['x-offsets']).map((e) => [e.id, e.data])).toEqual([
      ['4-0', 'v4'],
      ['5-0', 'v5'],
    ]);
    expect(res.headers['x-last-entry-id']).toBe('5-0');
  });

  it('walks 1,000 entries with the cursor: each exactly once, in order', async () => {
    const pipe = r.pipeline();
    for (let i = 0; i < 1000; i++) pipe.xadd('default:walk', '*', 'd', `e${i}`);
    const ids = ((await pipe.exec()) ?? []).map(([, id]) => id as string);
    const seen: string[] = [];
    const data: string[] = [];
    let cursor = '0';
    for (let calls = 0; calls < 100; calls++) {
      const res = await get('/data/walk', { last_entry_id: cursor, count: 37, block: 0 });
      if (res.status === 204) break;
      for (const e of split(res.body, res.headers['x-offsets'])) {
        seen.push(e.id);
        data.push(e.data);
      }
      cursor = res.headers['x-last-entry-id'];
    }
    expect(seen).toEqual(ids);
    expect(data).toEqual(ids.map((_, i) => `e${i}`));
  });

  it('cuts a large batch so x-offsets stays small, and the cursor continues exactly', async () => {
    const res = await get('/data/walk', { last_entry_id: '0', count: 1000, block: 0 }).expect(200);
    const rows = JSON.parse(res.headers['x-offsets']) as unknown[];
    expect(res.headers['x-offsets'].length).toBeLessThanOrEqual(6000);
    expect(rows.length).toBeGreaterThan(100);
    expect(rows.length).toBeLessThan(1000);
    const next = await get('/data/walk', { last_entry_id: res.headers['x-last-entry-id'], count: 1 }).expect(200);
    expect(next.body.toString()).toBe(`e${rows.length}`);
  });

  it('reads several streams with one cursor per stream (a+b)', async () => {
    await add('default:ma', '10-0', 'a10');
    await add('default:mb', '5-0', 'b5');
    await add('default:ma', '20-0', 'a20');
    await add('default:mb', '15-0', 'b15');
    const res = await get('/data/ma+mb', { last_entry_id: '0', count: 10 }).expect(200);
    // one id-ordered sequence, each row naming its stream
    expect(split(res.body, res.headers['x-offsets'])).toEqual([
      { sid: 'mb', id: '5-0', data: 'b5' },
      { sid: 'ma', id: '10-0', data: 'a10' },
      { sid: 'mb', id: '15-0', data: 'b15' },
      { sid: 'ma', id: '20-0', data: 'a20' },
    ]);
    expect(res.headers['x-last-entry-id']).toBe('20-0+15-0');
    // per-stream cursors, `+` encoded as %2B by the query string
    const more = await get('/data/ma+mb', { last_entry_id: '10-0+15-0', count: 10, block: 0 }).expect(200);
    expect(split(more.body, more.headers['x-offsets']).map((e) => e.data)).toEqual(['a20']);
    expect(more.headers['x-last-entry-id']).toBe('20-0+15-0');
    // an unencoded `+` (a space after decoding) works too
    const raw = await request(svc.http)
      .get('/data/ma+mb?last_entry_id=20-0+15-0&block=0')
      .set('Authorization', `Bearer ${token}`)
      .expect(204);
    expect(raw.headers['x-last-entry-id']).toBe('20-0+15-0');
  });

  it('serves stream ids with a slash, as a path or encoded as %2F', async () => {
    await add('default:site1/cam', '7-0', 'frame');
    const plain = await get('/data/site1/cam', { last_entry_id: '0' }).expect(200);
    expect(plain.body.toString()).toBe('frame');
    const encoded = await get('/data/site1%2Fcam', { last_entry_id: '0' }).expect(200);
    expect(JSON.parse(encoded.headers['x-offsets'])).toEqual([['site1/cam', '7-0', 0]]);
  });

  it('waits on a stream that does not exist yet (no 404), from its first entry', async () => {
    // `.then` sends the request now (a supertest request starts when it is awaited)
    const pending = get('/data/later', { block: 5000 }).then((res) => res);
    await sleep(200);
    await add('default:later', '1-1', 'first');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('first');
  });

  it('reads another device with device_id', async () => {
    await add('dev7:imu', '3-0', 'imu!');
    const res = await get('/data/imu', { device_id: 'dev7', last_entry_id: '0' }).expect(200);
    expect(res.body.toString()).toBe('imu!');
    await get('/data/imu', { device_id: 'bad device', last_entry_id: '0' }).expect(400);
  });

  it('holds 200 concurrent long-polls on the read hub with a constant number of Redis connections', async () => {
    const clients = async (): Promise<number> => ((await r.client('LIST')) as string).trim().split('\n').length;
    await get('/data/fan', { block: 0 }).expect(204); // the hub follows the stream
    const before = await clients();
    const polls = Array.from({ length: 200 }, () => get('/data/fan', { block: 10_000 }));
    const results = Promise.all(polls);
    const lifetimes = svc.app.get(RequestLifetimes);
    const until = Date.now() + 5000;
    while (lifetimes.size < 200 && Date.now() < until) await sleep(20);
    expect(lifetimes.size).toBe(200);
    await sleep(100);
    expect(await clients()).toBe(before);
    const id = (await r.xadd('default:fan', '*', 'd', 'to-all')) as string;
    const all = await results;
    expect(all.map((res) => [res.status, res.body.toString(), res.headers['x-last-entry-id']])).toEqual(
      Array(200).fill([200, 'to-all', id]),
    );
    expect(await clients()).toBe(before);
  });

  it('frees a long-poll at once when its client disconnects', async () => {
    const lifetimes = svc.app.get(RequestLifetimes);
    const aborts = Array.from({ length: 20 }, () => new AbortController());
    const polls = aborts.map((ac) =>
      fetch(`${svc.http}/data/gone?block=30000`, {
        headers: { Authorization: `Bearer ${token}` },
        signal: ac.signal,
      }).catch(() => undefined),
    );
    const until = Date.now() + 5000;
    while (lifetimes.size < 20 && Date.now() < until) await sleep(10);
    expect(lifetimes.size).toBe(20);
    const t0 = Date.now();
    aborts.forEach((ac) => ac.abort());
    await Promise.all(polls);
    while (lifetimes.size > 0 && Date.now() - t0 < 2000) await sleep(5);
    expect(lifetimes.size).toBe(0);
    expect(Date.now() - t0).toBeLessThan(200);
  });

  it('exposes the cursor and offset headers to browsers (CORS)', async () => {
    const res = await get('/data/old', { last_entry_id: '0' }).set('Origin', 'https://dash.example').expect(200);
    expect(res.headers['access-control-allow-origin']).toBe('https://dash.example');
    expect(res.headers['access-control-expose-headers']).toBe('x-last-entry-id,x-offsets,entry-offset');
  });

  it('answers bad input with 400 and a message', async () => {
    const cases: [Record<string, string | number>, RegExp][] = [
      [{ count: 0 }, /count must be an integer from 1 to 10000/],
      [{ count: 'ten' }, /count/],
      [{ count: 10001 }, /count/],
      [{ block: -1 }, /block must be an integer from 0 to 30000/],
      [{ block: 30001 }, /block/],
      [{ block: '1.5' }, /block/],
      [{ latest: 'maybe' }, /latest must be true\/false/],
      [{ last_entry_id: 'yesterday' }, /bad entry id or time "yesterday"/],
      [{ last_entry_id: '1-2-3' }, /bad entry id/],
      [{ last_entry_id: '1-0+2-0+3-0' }, /3 cursors for 1 streams/],
      [{ lates: 1 }, /unknown query parameter "lates"/],
    ];
    for (const [query, detail] of cases) {
      const res = await request(svc.http).get('/data/old').query(query).set('Authorization', `Bearer ${token}`);
      expect([res.status, res.body.detail]).toEqual([400, expect.stringMatching(detail)]);
    }
    for (const path of ['/data/a..b', '/data/-x', '/data/a+a', '/data/*', '/data/imu*', '/data/cam/pull']) {
      const res = await request(svc.http).get(path).set('Authorization', `Bearer ${token}`);
      expect([path, res.status, typeof res.body.detail]).toEqual([path, 400, 'string']);
    }
  });

  it('needs a token', async () => {
    const res = await request(svc.http).get('/data/old').expect(401);
    expect(res.body.detail).toMatch(/token/);
    await request(svc.http).get(`/data/old?last_entry_id=0&token=${token}`).expect(200);
  });
});
