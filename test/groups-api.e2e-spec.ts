import Redis from 'ioredis';
import request from 'supertest';
import { redisClient, startApp, startRedis, TestApp, tokenFor } from './harness';
import { writeUsersFile } from './support/rest';

const IDS = ['1000-0', '2000-0', '3000-0', '4000-0', '5000-0'];
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('REST /streams/{stream_id}/groups: consumer groups', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: TestApp;
  let r: Redis;
  let dev: string;
  let root: string;
  let reader: string;
  let stranger: string;

  beforeAll(async () => {
    redis = await startRedis();
    const usersFile = writeUsersFile([
      { username: 'root', password: 'toor', read: ['*'], write: ['*'], roles: ['admin'] },
      { username: 'reader', password: 'pw', read: ['default:jobs'] },
      { username: 'stranger', password: 'pw', read: ['default:other*'], write: ['*'] },
    ]);
    svc = await startApp(redis.url, { AUTH_USERS_FILE: usersFile, AUTH_DEV_MODE: 'true', STREAM_MAXLEN: '0' });
    r = redisClient(redis.url);
    dev = await tokenFor(svc.http, 'dev');
    root = await tokenFor(svc.http, 'root', 'toor');
    reader = await tokenFor(svc.http, 'reader', 'pw');
    stranger = await tokenFor(svc.http, 'stranger', 'pw');
  });
  afterAll(async () => {
    r.disconnect();
    await svc.close();
    await redis.cleanup();
  });

  beforeEach(async () => {
    await r.del('default:jobs');
    for (const id of IDS) await r.xadd('default:jobs', id, 'd', `job ${id}`);
  });

  const as = (token: string) => ({
    get: (path: string) => request(svc.http).get(path).set('Authorization', `Bearer ${token}`),
    post: (path: string) => request(svc.http).post(path).set('Authorization', `Bearer ${token}`),
    put: (path: string) => request(svc.http).put(path).set('Authorization', `Bearer ${token}`),
    delete: (path: string) => request(svc.http).delete(path).set('Authorization', `Bearer ${token}`),
  });

  /** Delivers `count` new entries of `default:jobs` to `consumer`, as a group pull would. */
  const deliver = (group: string, consumer: string, count: number) =>
    r.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', 'default:jobs', '>');

  const pendingIds = async (group: string): Promise<string[]> =>
    ((await r.xpending('default:jobs', group, '-', '+', 100)) as [string][]).map(([id]) => id);

  it('creates groups at 0, $ (default), an id and a time; 409 for an existing name', async () => {
    const history = await as(dev).post('/streams/jobs/groups').send({ group: 'workers', start_id: '0' }).expect(201);
    expect(history.body).toEqual({
      name: 'workers',
      consumers: [],
      pending: 0,
      last_delivered_id: '0-0',
      entries_read: null,
      lag: 5,
    });
    const fresh = await as(dev).post('/streams/jobs/groups').send({ group: 'fresh' }).expect(201);
    expect(fresh.body).toMatchObject({ name: 'fresh', last_delivered_id: '5000-0', lag: 0 });
    const byId = await as(dev).post('/streams/jobs/groups').send({ group: 'by-id', start_id: '2000-0' }).expect(201);
    expect(byId.body.last_delivered_id).toBe('2000-0');
    // a time: the entries at or after it come next
    const since = new Date(3000).toISOString();
    const byTime = await as(dev).post('/streams/jobs/groups').send({ group: 'by-time', start_id: since }).expect(201);
    expect(byTime.body.last_delivered_id).toBe('2999-18446744073709551615');
    const [[, first]] = (await deliver('by-time', 'c', 1)) as [string, [string, string[]][]][];
    expect(first[0][0]).toBe('3000-0');

    const dup = await as(dev).post('/streams/jobs/groups').send({ group: 'workers', start_id: '$' }).expect(409);
    expect(dup.body).toEqual({ detail: 'consumer group workers already exists on stream jobs' });
    // sorted by name, as Redis keeps them
    const listed = await as(dev).get('/streams/jobs/groups').expect(200);
    expect(listed.body.map((g: { name: string }) => g.name)).toEqual(['by-id', 'by-time', 'fresh', 'workers']);
  });

  it('creates a group (and its empty stream) before the stream has entries', async () => {
    await r.del('default:later');
    const res = await as(dev).post('/streams/later/groups?device_id=default').send({ group: 'early' }).expect(201);
    expect(res.body).toMatchObject({ name: 'early', last_delivered_id: '0-0', pending: 0 });
    expect(await r.xlen('default:later')).toBe(0);
    await r.xadd('default:later', '*', 'd', 'first');
    const [[, got]] = (await r.xreadgroup('GROUP', 'early', 'c', 'STREAMS', 'default:later', '>')) as [
      string,
      [string, string[]][],
    ][];
    expect(got[0][1]).toEqual(['d', 'first']);
  });

  it('refuses bad create bodies with 400 and a message', async () => {
    const cases: [object, RegExp][] = [
      [{ group: 'bad name' }, /group must be 1-64 characters/],
      [{ group: 'g', start_id: 'yesterday' }, /^start_id: bad entry id or time "yesterday"$/],
      [{ group: 'g', start_id: '1-2-3' }, /start_id/],
      [{ group: 'g', start_id: 0 }, /start_id must be a string/],
      [{}, /^group must be 1-64 characters of A-Z a-z 0-9 _ \. : -$/],
      [{ group: 'g', extra: 1 }, /property extra should not exist/],
    ];
    for (const [body, detail] of cases) {
      const res = await as(dev).post('/streams/jobs/groups').send(body).expect(400);
      expect([body, res.body.detail]).toEqual([body, expect.stringMatching(detail)]);
    }
    await as(dev).post('/streams/jobs/groups').set('Content-Type', 'application/json').send('{oops').expect(400);
    expect(await r.xinfo('GROUPS', 'default:jobs')).toEqual([]);
  });

  it('lists groups with consumers, pending, last delivered id, entries read and lag', async () => {
    await r.xgroup('CREATE', 'default:jobs', 'workers', '0');
    await deliver('workers', 'c1', 2);
    await deliver('workers', 'c2', 1);
    const res = await as(reader).get('/streams/jobs/groups').expect(200);
    expect(res.body).toEqual([
      {
        name: 'workers',
        consumers: [
          { name: 'c1', pending: 2, idle_ms: expect.any(Number), inactive_ms: res.body[0].consumers[0].inactive_ms },
          { name: 'c2', pending: 1, idle_ms: expect.any(Number), inactive_ms: res.body[0].consumers[1].inactive_ms },
        ],
        pending: 3,
        last_delivered_id: '3000-0',
        entries_read: 3,
        lag: 2,
      },
    ]);
    // `inactive` exists from Redis 7.2 on; before, it is null
    for (const c of res.body[0].consumers)
      expect(c.inactive_ms === null || typeof c.inactive_ms === 'number').toBe(true);
    expect(res.body[0].consumers[0].idle_ms).toBeLessThan(5000);
    expect((await as(dev).get('/streams/jobs/groups').expect(200)).body).toHaveLength(1);
  });

  it('answers 404 for unknown streams and groups, 400 for bad stream ids and names', async () => {
    await r.set('default:plain', 'not a stream');
    expect((await as(dev).get('/streams/nope/groups').expect(404)).body).toEqual({ detail: 'no stream nope' });
    expect((await as(dev).get('/streams/plain/groups').expect(404)).body).toEqual({ detail: 'no stream plain' });
    expect((await as(dev).get('/streams/a..b/groups').expect(400)).body.detail).toMatch(/bad stream id/);
    await as(dev).get('/streams/jobs/groups?device_id=a%20b').expect(400);
    const noGroup = { detail: 'no consumer group ghost on stream jobs' };
    expect((await as(dev).get('/streams/jobs/groups/ghost/pending').expect(404)).body).toEqual(noGroup);
    expect(
      (
        await as(dev)
          .post('/streams/jobs/groups/ghost/ack')
          .send({ ids: ['1000-0'] })
          .expect(404)
      ).body,
    ).toEqual(noGroup);
    const claim = { consumer: 'c', ids: ['1000-0'] };
    expect((await as(dev).post('/streams/jobs/groups/ghost/claim').send(claim).expect(404)).body).toEqual(noGroup);
    expect((await as(dev).put('/streams/jobs/groups/ghost').send({ id: '0' }).expect(404)).body).toEqual(noGroup);
    expect((await as(root).delete('/streams/jobs/groups/ghost').expect(404)).body).toEqual(noGroup);
    expect((await as(dev).delete('/streams/jobs/groups/ghost/consumers/c').expect(404)).body).toEqual(noGroup);
    expect((await as(dev).get('/streams/nope/groups/ghost/pending').expect(404)).body).toEqual({
      detail: 'no stream nope',
    });
    const badName = await as(dev).get('/streams/jobs/groups/bad%20name/pending').expect(400);
    expect(badName.body).toEqual({ detail: 'group must be 1-64 characters of A-Z a-z 0-9 _ . : -' });
  });

  it('lists pending entries with idle, count and consumer filters', async () => {
    await r.xgroup('CREATE', 'default:jobs', 'workers', '0');
    await deliver('workers', 'c1', 2);
    await deliver('workers', 'c2', 1);
    const all = await as(dev).get('/streams/jobs/groups/workers/pending').expect(200);
    expect(all.body).toEqual(
      [
        ['1000-0', 'c1'],
        ['2000-0', 'c1'],
        ['3000-0', 'c2'],
      ].map(([id, consumer]) => ({
        id,
        time: new Date(Number(id.split('-')[0])).toISOString(),
        consumer,
        idle_ms: expect.any(Number),
        deliveries: 1,
      })),
    );
    const ids = (res: request.Response): string[] => res.body.map((p: { id: string }) => p.id);
    expect(ids(await as(dev).get('/streams/jobs/groups/workers/pending?count=2').expect(200))).toEqual(IDS.slice(0, 2));
    expect(ids(await as(dev).get('/streams/jobs/groups/workers/pending?consumer=c2').expect(200))).toEqual(['3000-0']);
    expect((await as(dev).get('/streams/jobs/groups/workers/pending?idle_ms=60000').expect(200)).body).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(ids(await as(dev).get('/streams/jobs/groups/workers/pending?idle_ms=50').expect(200))).toEqual(
      IDS.slice(0, 3),
    );
    const ghost = await as(dev).get('/streams/jobs/groups/workers/pending?consumer=ghost').expect(404);
    expect(ghost.body).toEqual({ detail: 'no consumer ghost in group workers' });
    for (const query of ['idle_ms=soon', 'idle_ms=-1', 'count=0', 'count=10001', 'idle=5']) {
      const res = await as(dev).get(`/streams/jobs/groups/workers/pending?${query}`).expect(400);
      expect([query, res.body.detail]).toEqual([query, expect.any(String)]);
    }
  });

  it('acks delivered entries and reports ids that were not pending; nothing is lost', async () => {
    await r.xgroup('CREATE', 'default:jobs', 'workers', '0');
    await deliver('workers', 'c1', 3);
    const res = await as(dev)
      .post('/streams/jobs/groups/workers/ack')
      .send({ ids: ['1000-0', '4000-0', '9-9', '1000-0'] })
      .expect(200);
    // 4000-0 exists but was never delivered; 9-9 does not exist; the repeated 1000-0 was acked just before
    expect(res.body).toEqual({ acked: 1, not_pending: ['4000-0', '9-9', '1000-0'] });
    expect(await pendingIds('workers')).toEqual(['2000-0', '3000-0']);
    expect(await r.xlen('default:jobs')).toBe(5);
    // the entries never delivered are still delivered next
    const [[, next]] = (await deliver('workers', 'c1', 10)) as [string, [string, string[]][]][];
    expect(next.map(([id]) => id)).toEqual(['4000-0', '5000-0']);
  });

  it('refuses bad acks with 400 and changes nothing', async () => {
    await r.xgroup('CREATE', 'default:jobs', 'workers', '0');
    await deliver('workers', 'c1', 2);
    const cases: [object, RegExp][] = [
      [{ ids: ['1000-0', 'yesterday'] }, /^ids must be entry ids \(ms-seq\), got "yesterday"$/],
      [{ ids: ['1000'] }, /ids must be entry ids/],
      [{ ids: [] }, /^ids must be an array of 1 to 10000 entry ids$/],
      [{ ids: '1000-0' }, /^ids must be an array of 1 to 10000 entry ids$/],
      [{ ids: [1000] }, /^ids must be entry ids \(ms-seq\), got 1000$/],
      [{}, /^ids must be an array of 1 to 10000 entry ids$/],
      [{ ids: Array.from({ length: 10001 }, (_, i) => `${i}-0`) }, /^ids must be an array of 1 to 10000 entry ids$/],
      [['1000-0'], /property 0 should not exist/],
    ];
    for (const [body, detail] of cases) {
      const res = await as(dev).post('/streams/jobs/groups/workers/ack').send(body).expect(400);
      expect(res.body.detail).toMatch(detail);
    }
    expect(await pendingIds('workers')).toEqual(['1000-0', '2000-0']);
  });

  it('claims idle pending entries for another consumer and returns them with their payloads', async () => {
    await r.xgroup('CREATE', 'default:jobs', 'workers', '0');
    await deliver('workers', 'c1', 3);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const tooSoon = await as(dev)
      .post('/streams/jobs/groups/workers/claim')
      .send({ consumer: 'c2', ids: ['1000-0'], min_idle_ms: 60000 })
      .expect(200);
    expect(tooSoon.body).toEqual([]);
    const res = await as(dev)
      .post('/streams/jobs/groups/workers/claim')
      .send({ consumer: 'c2', ids: ['2000-0', '3000-0', '5000-0'], min_idle_ms: 50 })
      .expect(200);
    // 5000-0 was never delivered: not pending, so not claimed
    expect(res.body).toEqual(
      ['2000-0', '3000-0'].map((id) => ({
        id,
        time: new Date(Number(id.split('-')[0])).toISOString(),
        data: b64(`job ${id}`),
      })),
    );
    const pending = (await as(dev).get('/streams/jobs/groups/workers/pending').expect(200)).body;
    expect(
      pending.map((p: { id: string; consumer: string; deliveries: number }) => [p.id, p.consumer, p.deliveries]),
    ).toEqual([
      ['1000-0', 'c1', 1],
      ['2000-0', 'c2', 2],
      ['3000-0', 'c2', 2],
    ]);
    // without min_idle_ms any pending entry is taken
    const forced = await as(dev)
      .post('/streams/jobs/groups/workers/claim')
      .send({ consumer: 'c3', ids: ['1000-0'] })
      .expect(200);
    expect(forced.body.map((e: { id: string }) => e.id)).toEqual(['1000-0']);
    for (const body of [
      { consumer: 'bad name', ids: ['1000-0'] },
      { consumer: 'c2', ids: ['x'] },
      { consumer: 'c2', ids: ['1000-0'], min_idle_ms: -1 },
      { consumer: 'c2', ids: ['1000-0'], min_idle_ms: 1.5 },
      { ids: ['1000-0'] },
    ]) {
      const bad = await as(dev).post('/streams/jobs/groups/workers/claim').send(body).expect(400);
      expect(bad.body.detail).toEqual(expect.any(String));
    }
  });

  it("moves a group's last-delivered id to 0, an id, a time or $", async () => {
    await r.xgroup('CREATE', 'default:jobs', 'workers', '0');
    await deliver('workers', 'c1', 5);
    const put = (id: string) => as(dev).put('/streams/jobs/groups/workers').send({ id });
    const rewound = await put('0').expect(200);
    expect(rewound.body).toMatchObject({ name: 'workers', last_delivered_id: '0-0', pending: 5 });
    expect((await put('2000-0').expect(200)).body.last_delivered_id).toBe('2000-0');
    const byTime = await put(new Date(4000).toISOString()).expect(200);
    expect(byTime.body.last_delivered_id).toBe('3999-18446744073709551615');
    const [[, next]] = (await deliver('workers', 'c2', 10)) as [string, [string, string[]][]][];
    expect(next.map(([id]) => id)).toEqual(['4000-0', '5000-0']);
    expect((await put('$').expect(200)).body).toMatchObject({ last_delivered_id: '5000-0', lag: 0 });
    for (const body of [{ id: 'soon' }, { id: '1-2-3' }, {}, { id: 5 }]) {
      const bad = await as(dev).put('/streams/jobs/groups/workers').send(body).expect(400);
      expect(bad.body.detail).toEqual(expect.any(String));
    }
    expect((await as(dev).get('/streams/jobs/groups').expect(200)).body[0].last_delivered_id).toBe('5000-0');
  });

  it('deletes a consumer; one with pending entries only with force=true', async () => {
    await r.xgroup('CREATE', 'default:jobs', 'workers', '0');
    await deliver('workers', 'busy', 2);
    await r.xgroup('CREATECONSUMER', 'default:jobs', 'workers', 'idle');
    const refused = await as(dev).delete('/streams/jobs/groups/workers/consumers/busy').expect(409);
    expect(refused.body.detail).toBe(
      'consumer busy still has 2 pending entries: claim or acknowledge them first, ' +
        'or delete with force=true (they would never be delivered again)',
    );
    expect(await pendingIds('workers')).toEqual(['1000-0', '2000-0']);
    const idle = await as(dev).delete('/streams/jobs/groups/workers/consumers/idle').expect(200);
    expect(idle.body).toEqual({ consumer: 'idle', dropped_pending: 0 });
    const forced = await as(dev).delete('/streams/jobs/groups/workers/consumers/busy?force=true').expect(200);
    expect(forced.body).toEqual({ consumer: 'busy', dropped_pending: 2 });
    expect((await as(dev).get('/streams/jobs/groups').expect(200)).body[0]).toMatchObject({
      consumers: [],
      pending: 0,
    });
    const gone = await as(dev).delete('/streams/jobs/groups/workers/consumers/busy').expect(404);
    expect(gone.body).toEqual({ detail: 'no consumer busy in group workers' });
    await as(dev).delete('/streams/jobs/groups/workers/consumers/x?force=maybe').expect(400);
    await as(dev).delete('/streams/jobs/groups/workers/consumers/bad%20name').expect(400);
    expect(await r.xlen('default:jobs')).toBe(5);
  });

  it('deletes a group for an admin only, leaving the entries', async () => {
    await r.xgroup('CREATE', 'default:jobs', 'workers', '0');
    await deliver('workers', 'c1', 2);
    for (const token of [dev, reader]) {
      const refused = await as(token).delete('/streams/jobs/groups/workers').expect(403);
      expect(refused.body).toEqual({ detail: 'deleting a consumer group needs the admin role' });
    }
    expect(await pendingIds('workers')).toEqual(['1000-0', '2000-0']);
    await as(root).delete('/streams/jobs/groups/workers').expect(204);
    expect((await as(root).get('/streams/jobs/groups').expect(200)).body).toEqual([]);
    await as(root).delete('/streams/jobs/groups/workers').expect(404);
    expect(await r.xlen('default:jobs')).toBe(5);
  });

  it('needs read permission on the stream for every other group route', async () => {
    await r.xgroup('CREATE', 'default:jobs', 'workers', '0');
    await deliver('workers', 'c1', 1);
    const forbidden = { detail: 'no read permission for stream jobs' };
    const s = as(stranger);
    for (const req of [
      s.get('/streams/jobs/groups'),
      s.post('/streams/jobs/groups').send({ group: 'mine' }),
      s.put('/streams/jobs/groups/workers').send({ id: '0' }),
      s.get('/streams/jobs/groups/workers/pending'),
      s.post('/streams/jobs/groups/workers/ack').send({ ids: ['1000-0'] }),
      s.post('/streams/jobs/groups/workers/claim').send({ consumer: 'x', ids: ['1000-0'] }),
      s.delete('/streams/jobs/groups/workers/consumers/c1?force=true'),
      // an unknown group is not revealed either
      s.get('/streams/jobs/groups/ghost/pending'),
    ]) {
      expect((await req.expect(403)).body).toEqual(forbidden);
    }
    // nothing changed
    expect(await pendingIds('workers')).toEqual(['1000-0']);
    expect(((await r.xinfo('GROUPS', 'default:jobs')) as unknown[]).length).toBe(1);
    // a user with read permission on jobs (and nothing else) may use them
    await as(reader).get('/streams/jobs/groups/workers/pending').expect(200);
    await as(reader)
      .post('/streams/jobs/groups/workers/ack')
      .send({ ids: ['1000-0'] })
      .expect(200);
    await as(reader).get('/streams/other/groups').expect(403);
    for (const path of ['/streams/jobs/groups', '/streams/jobs/groups/workers/pending']) {
      expect((await request(svc.http).get(path).expect(401)).body.detail).toMatch(/token/);
    }
  });

  it('documents every group route in the OpenAPI document', async () => {
    const spec = (await request(svc.http).get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { parameters?: { name: string }[]; responses: Record<string, unknown> }>>;
    };
    const base = '/streams/{stream_id}/groups';
    const routes: [string, string, string[], string[]][] = [
      [base, 'get', ['stream_id', 'device_id'], ['200', '400', '401', '403', '404', '503']],
      [base, 'post', ['stream_id', 'device_id'], ['201', '400', '401', '403', '404', '409']],
      [`${base}/{group}`, 'delete', ['stream_id', 'group'], ['204', '403', '404']],
      [`${base}/{group}`, 'put', ['stream_id', 'group'], ['200', '400', '403', '404']],
      [`${base}/{group}/pending`, 'get', ['idle_ms', 'count', 'consumer'], ['200', '400', '403', '404']],
      [`${base}/{group}/ack`, 'post', ['stream_id', 'group'], ['200', '400', '403', '404']],
      [`${base}/{group}/claim`, 'post', ['stream_id', 'group'], ['200', '400', '403', '404']],
      [`${base}/{group}/consumers/{consumer}`, 'delete', ['consumer', 'force'], ['200', '403', '404', '409']],
    ];
    for (const [path, method, params, statuses] of routes) {
      const op = spec.paths[path]?.[method];
      expect([path, method, op !== undefined]).toEqual([path, method, true]);
      expect(op.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(params));
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(statuses));
    }
  });
});
