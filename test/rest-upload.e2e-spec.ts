import http from 'node:http';
import Redis from 'ioredis';
import request from 'supertest';
import { TestApp, useService } from './harness';
import { binary } from './support/rest';

const MAX_BODY = 64 * 1024;

/** What a stream holds: [id, payload] pairs. */
async function contents(r: Redis, key: string): Promise<[string, string][]> {
  const entries = await r.xrange(key, '-', '+');
  return entries.map(([id, fields]) => [id, fields[1]]);
}

describe('REST POST /data and GET /data/{id}/range', () => {
  const ctx = useService({ STREAM_MAXLEN: '0', HTTP_MAX_BODY: String(MAX_BODY) });
  let svc: TestApp;
  let token: string;
  let r: Redis;
  beforeAll(() => {
    ({ svc, token, redis: r } = ctx);
  });

  const post = (path: string) => request(svc.http).post(path).set('Authorization', `Bearer ${token}`);
  const get = (path: string) => request(svc.http).get(path).set('Authorization', `Bearer ${token}`);

  it('README recipe: requests.post(files=[("entries", (sid, data))]) stores one entry, 201 + ids', async () => {
    const data = Buffer.from([0, 1, 2, 255, 254, 0x0d, 0x0a]);
    const res = await post('/data/my-stream').attach('entries', data, 'my-stream').expect(201);
    expect(res.body).toEqual([expect.stringMatching(/^\d+-\d+$/)]);
    const [[id, fields]] = await r.xrangeBuffer('default:my-stream', '-', '+');
    expect([id.toString(), fields[0].toString(), fields[1]]).toEqual([res.body[0], 'd', data]);
  });

  it('stores every part named entries, in order and atomically', async () => {
    const res = await post('/data/batch')
      .attach('entries', Buffer.from('one'), 'x')
      .field('entries', 'two (a text field)')
      .attach('entries', Buffer.from('three'), 'x')
      .expect(201);
    expect(res.body).toHaveLength(3);
    expect(await contents(r, 'default:batch')).toEqual([
      [res.body[0], 'one'],
      [res.body[1], 'two (a text field)'],
      [res.body[2], 'three'],
    ]);
  });

  it('takes a raw application/octet-stream body as one entry', async () => {
    const res = await post('/data/raw?device_id=dev1')
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.from('raw bytes'))
      .expect(201);
    expect(await contents(r, 'dev1:raw')).toEqual([[res.body[0], 'raw bytes']]);
  });

  it('names streams by filename on a * path and on an a+b path', async () => {
    const star = await post('/data/*')
      .attach('entries', Buffer.from('c1'), 'cam')
      .attach('entries', Buffer.from('m1'), 'mic')
      .attach('entries', Buffer.from('c2'), 'cam')
      .expect(201);
    expect(await contents(r, 'default:cam')).toEqual([
      [star.body[0], 'c1'],
      [star.body[2], 'c2'],
    ]);
    expect(await contents(r, 'default:mic')).toEqual([[star.body[1], 'm1']]);
    const both = await post('/data/cam+mic').attach('entries', Buffer.from('m2'), 'mic').expect(201);
    expect((await contents(r, 'default:mic'))[1]).toEqual([both.body[0], 'm2']);
  });

  it('stores nothing of an upload with any bad part', async () => {
    const cases: [request.Test, number, RegExp][] = [
      [
        post('/data/*').attach('entries', Buffer.from('ok'), 'atomic').attach('entries', Buffer.from('x'), 'bad..id'),
        400,
        /bad stream id "bad\.\.id"/,
      ],
      [post('/data/*').attach('entries', Buffer.from('ok'), 'atomic').field('entries', 'no name'), 400, /filename/],
      [
        post('/data/atomic+other')
          .attach('entries', Buffer.from('ok'), 'atomic')
          .attach('entries', Buffer.from('x'), 'third'),
        400,
        /one of atomic, other/,
      ],
      [
        post('/data/atomic').attach('entries', Buffer.from('ok'), 'x').attach('file', Buffer.from('x'), 'x'),
        400,
        /unexpected part "file"/,
      ],
      [post('/data/atomic').field('other', 'x'), 400, /unexpected part/],
      [post('/data/atomic').type('multipart/form-data; boundary=zzz').send('garbage'), 400, /multipart/],
      [post('/data/atomic').type('multipart/form-data').send('--x'), 400, /multipart/],
      [post('/data/atomic+other').type('application/octet-stream').send(Buffer.from('x')), 400, /raw body/],
      [post('/data/atomic').send({ json: true }), 415, /multipart\/form-data/],
      [post('/data/atomic').type('text/plain').send('hi'), 415, /octet-stream/],
      [post('/data/atomic').attach('nothing', Buffer.alloc(0), 'x').field('x', ''), 400, /unexpected part/],
      [post('/data/a..b').type('application/octet-stream').send(Buffer.from('x')), 400, /bad stream id/],
      [
        post('/data/atomic?count=2').type('application/octet-stream').send(Buffer.from('x')),
        400,
        /unknown query parameter/,
      ],
    ];
    for (const [req, status, detail] of cases) {
      const res = await req;
      expect([res.status, res.body.detail]).toEqual([status, expect.stringMatching(detail)]);
    }
    expect(await r.exists('default:atomic', 'default:other', 'default:a..b')).toBe(0);
  });

  it('refuses an upload larger than HTTP_MAX_BODY with 413 and stores nothing (raw, chunked, multipart)', async () => {
    const big = Buffer.alloc(MAX_BODY + 1, 7);
    const raw = await post('/data/huge').type('application/octet-stream').send(big).expect(413);
    expect(raw.body.detail).toBe(`upload larger than ${MAX_BODY} bytes (HTTP_MAX_BODY)`);
    const multi = await post('/data/huge')
      .attach('entries', Buffer.alloc(MAX_BODY / 2), 'a')
      .attach('entries', Buffer.alloc(MAX_BODY / 2), 'b')
      .expect(413);
    expect(multi.body.detail).toMatch(/HTTP_MAX_BODY/);
    // no Content-Length: counted as it arrives
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${svc.http}/data/huge`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write(Buffer.alloc(MAX_BODY / 8));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(await r.exists('default:huge')).toBe(0);
    // the limit is inclusive and the service is still fine afterwards
    await post('/data/huge').type('application/octet-stream').send(Buffer.alloc(MAX_BODY)).expect(201);
  });

  it('reads a range by id and by time as JSON with base64 payloads', async () => {
    for (let i = 1; i <= 5; i++) await r.xadd('default:rng', `${1675000000000 + i * 1000}-0`, 'd', `v${i}`);
    const all = await get('/data/rng/range').expect(200);
    expect(all.body).toEqual(
      [1, 2, 3, 4, 5].map((i) => ({
        id: `${1675000000000 + i * 1000}-0`,
        time: new Date(1675000000000 + i * 1000).toISOString(),
        data: Buffer.from(`v${i}`).toString('base64'),
      })),
    );
    expect(all.headers['x-last-entry-id']).toBe('1675000005000-0');
    const byTime = await get('/data/rng/range')
      .query({ start: new Date(1675000002000).toISOString(), end: '1675000004000' })
      .expect(200);
    expect(byTime.body.map((e: { id: string }) => e.id)).toEqual([
      '1675000002000-0',
      '1675000003000-0',
      '1675000004000-0',
    ]);
    const paged = await get('/data/rng/range').query({ start: '(1675000002000-0', count: 2 }).expect(200);
    expect(paged.body.map((e: { id: string }) => e.id)).toEqual(['1675000003000-0', '1675000004000-0']);
    const empty = await get('/data/rng/range').query({ start: '1675000010000' }).expect(200);
    expect(empty.body).toEqual([]);
  });

  it('reads a range as binary + x-offsets with Accept: application/octet-stream', async () => {
    const res = await get('/data/rng/range')
      .query({ start: '1675000004000-0' })
      .set('Accept', 'application/octet-stream')
      .buffer(true)
      .parse(binary)
      .expect(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.body.toString()).toBe('v4v5');
    expect(JSON.parse(res.headers['x-offsets'])).toEqual([
      ['rng', '1675000004000-0', 0],
      ['rng', '1675000005000-0', 2],
    ]);
    expect(res.headers.vary).toMatch(/Accept/);
  });

  it('answers 404 for the range of an unknown stream and 400 for bad bounds', async () => {
    const missing = await get('/data/nope/range').expect(404);
    expect(missing.body).toEqual({ detail: 'no stream nope' });
    for (const query of [{ start: 'yesterday' }, { end: '1-2-3' }, { count: 0 }, { start: '(1675000002000' }]) {
      const res = await get('/data/rng/range').query(query).expect(400);
      expect(res.body.detail).toEqual(expect.any(String));
    }
    await get('/data/rng+huge/range').expect(400);
  });
});
