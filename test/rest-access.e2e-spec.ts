import request from 'supertest';
import { redisClient, startApp, startRedis, TestApp, tokenFor } from './harness';
import { writeUsersFile } from './support/rest';
import { SseClient } from './support/sse-client';

async function until(check: () => Promise<boolean>, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('REST data routes: permissions and Redis outages', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: TestApp;
  let alice: string;

  beforeAll(async () => {
    redis = await startRedis();
    // alice reads and writes device cam1 only, and may read (not write) default:public*
    const usersFile = writeUsersFile([
      { username: 'alice', password: 'wonderland', read: ['cam1:*', 'default:public*'], write: ['cam1:*'] },
    ]);
    svc = await startApp(redis.url, { AUTH_USERS_FILE: usersFile, AUTH_DEV_MODE: 'false' });
    alice = await tokenFor(svc.http, 'alice', 'wonderland');
    const r = redisClient(redis.url);
    await r.xadd('default:secret', '1-0', 'd', 'classified');
    await r.xadd('default:public', '1-0', 'd', 'hello');
    r.disconnect();
  });
  afterAll(async () => {
    await svc.close();
    await redis.cleanup();
  });

  const as = (method: 'get' | 'post', path: string) =>
    request(svc.http)[method](path).set('Authorization', `Bearer ${alice}`);

  it('allows what the globs allow', async () => {
    const up = await as('post', '/data/frames?device_id=cam1').attach('entries', Buffer.from('f'), 'x').expect(201);
    const down = await as('get', '/data/frames?device_id=cam1&last_entry_id=0').expect(200);
    expect(down.headers['x-last-entry-id']).toBe(up.body[0]);
    await as('get', '/data/public?last_entry_id=0').expect(200);
    await as('get', '/data/public/range').expect(200);
  });

  it('answers 403 with a message for a stream outside the globs, before reading anything', async () => {
    const cases: [request.Test, string][] = [
      [as('get', '/data/secret?last_entry_id=0'), 'no read permission for stream secret'],
      [as('get', '/data/public+secret?last_entry_id=0'), 'no read permission for stream secret'],
      [as('get', '/data/secret/range'), 'no read permission for stream secret'],
      [
        as('post', '/data/public').type('application/octet-stream').send(Buffer.from('x')),
        'no write permission for stream public',
      ],
      [
        as('post', '/data/*?device_id=cam1')
          .attach('entries', Buffer.from('x'), 'ok')
          .attach('entries', Buffer.from('y'), 'ok'),
        '',
      ],
      [as('post', '/data/*').attach('entries', Buffer.from('x'), 'public'), 'no write permission for stream public'],
    ];
    for (const [req, detail] of cases) {
      const res = await req;
      if (detail) expect([res.status, res.body]).toEqual([403, { detail }]);
      else expect(res.status).toBe(201);
    }
    const es = await SseClient.connect(`${svc.http}/data/secret/events?token=${alice}`);
    await es.until(() => es.ended).catch(() => undefined);
    expect([es.status, JSON.parse(es.body)]).toEqual([403, { detail: 'no read permission for stream secret' }]);
  });

  it('answers 503 (never a bare 500) while Redis is down, and serves again once it is back', async () => {
    await redis.kill();
    await until(async () => (await request(svc.http).get('/health')).status === 503);
    const cases = [
      as('get', '/data/fresh?device_id=cam1'),
      as('get', '/data/fresh/range?device_id=cam1'),
      as('post', '/data/fresh?device_id=cam1').type('application/octet-stream').send(Buffer.from('x')),
      as('get', '/streams?device_id=cam1'),
    ];
    for (const req of cases) {
      const res = await req;
      expect([res.status, res.body]).toEqual([503, { detail: 'Storage unavailable, try again later' }]);
    }
    const es = await SseClient.connect(`${svc.http}/data/fresh/events?device_id=cam1&token=${alice}`);
    await es.until(() => es.ended).catch(() => undefined);
    expect(es.status).toBe(503);
    await redis.boot();
    await until(async () => (await request(svc.http).get('/health')).status === 200);
    await as('post', '/data/fresh?device_id=cam1').type('application/octet-stream').send(Buffer.from('x')).expect(201);
  });
});
