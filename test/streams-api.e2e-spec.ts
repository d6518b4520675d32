import Redis from 'ioredis';
import request from 'supertest';
import { RetentionService, SWEEP_LOCK_KEY } from '../src/streams/retention.service';
import { redisClient, startApp, startRedis, TestApp, tokenFor } from './harness';
import { writeUsersFile } from './support/rest';
import { TestSocket } from './support/ws-client';

describe('REST /streams: listings, descriptions, metadata, deletion, retention', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: TestApp;
  let dev: string;
  let root: string;
  let r: Redis;
  let env: Record<string, string>;

  beforeAll(async () => {
    redis = await startRedis();
    const usersFile = writeUsersFile([
      { username: 'root', password: 'toor', read: ['*'], write: ['*'], roles: ['admin'] },
      { username: 'cam-only', password: 'pw', read: ['default:cam*'], write: [] },
    ]);
    env = { AUTH_USERS_FILE: usersFile, AUTH_DEV_MODE: 'true', STREAM_MAXLEN: '0' };
    svc = await startApp(redis.url, env);
    dev = await tokenFor(svc.http, 'dev');
    root = await tokenFor(svc.http, 'root', 'toor');
    r = redisClient(redis.url);
    await r.xadd('default:cam1', '1-0', 'd', '{"t": 21}');
    await r.xadd('default:cam1', '2-0', 'd', 'last');
    await r.xadd('default:cam2', '1-0', 'd', 'x');
    await r.xadd('default:imu', '1-0', 'd', 'y');
    await r.xadd('other:cam9', '1-0', 'd', 'z');
    await r.xadd(':event:device.connected', '*', 'd', 'e');
    await r.set('default:not-a-stream', 'plain string');
    await r.set(':stream:meta:default:planned', JSON.stringify({ note: 'no data yet' }));
  });
  afterAll(async () => {
    r.disconnect();
    await svc.close();
    await redis.cleanup();
  });

  const as = (token: string) => ({
    get: (path: string) => request(svc.http).get(path).set('Authorization', `Bearer ${token}`),
    put: (path: string) => request(svc.http).put(path).set('Authorization', `Bearer ${token}`),
    delete: (path: string) => request(svc.http).delete(path).set('Authorization', `Bearer ${token}`),
  });

  it("lists a device's streams, with metadata-only streams, without other devices or system keys", async () => {
    const res = await as(dev).get('/streams').expect(200);
    expect(res.body).toEqual(['cam1', 'cam2', 'imu', 'planned']);
    expect((await as(dev).get('/streams?device_id=other').expect(200)).body).toEqual(['cam9']);
    expect((await as(dev).get('/streams?device_id=nobody').expect(200)).body).toEqual([]);
  });

  it('lists only what the token may read', async () => {
    const camOnly = await tokenFor(svc.http, 'cam-only', 'pw');
    expect((await as(camOnly).get('/streams').expect(200)).body).toEqual(['cam1', 'cam2']);
    await as(camOnly).get('/streams/imu').expect(403);
  });

  it('describes every stream with info=true (XINFO broken out, plus meta)', async () => {
    const res = await as(dev).get('/streams?info=true').expect(200);
    const byId = new Map((res.body as { streamId: string }[]).map((s) => [s.streamId, s]));
    expect(byId.get('cam1')).toEqual({
      id: 'default:cam1',
      streamId: 'cam1',
      meta: null,
      length: 2,
      entriesAdded: 2,
      groups: 0,
      lastGeneratedId: '2-0',
      maxDeletedEntryId: '0-0',
      recordedFirstEntryId: '1-0',
      radixTreeKeys: 1,
      radixTreeNodes: 2,
      firstEntryId: '1-0',
      firstEntryTime: '1970-01-01T00:00:00.001Z',
      firstEntryData: Buffer.from('{"t": 21}').toString('base64'),
      firstEntryString: '{"t": 21}',
      firstEntryJson: { t: 21 },
      lastEntryId: '2-0',
      lastEntryTime: '1970-01-01T00:00:00.002Z',
      lastEntryData: Buffer.from('last').toString('base64'),
      lastEntryString: 'last',
      lastEntryJson: null,
      error: null,
    });
    expect(byId.get('planned')).toMatchObject({ meta: { note: 'no data yet' }, length: null, error: 'no such key' });
  });

  it('describes one stream, 404 for an unknown one, 400 for a bad id; a slash is sent as %2F', async () => {
    expect((await as(dev).get('/streams/cam2').expect(200)).body).toMatchObject({ streamId: 'cam2', length: 1 });
    expect((await as(dev).get('/streams/nope').expect(404)).body).toEqual({ detail: 'no stream nope' });
    expect((await as(dev).get('/streams/not-a-stream').expect(404)).body.detail).toBe('no stream not-a-stream');
    expect((await as(dev).get('/streams/a..b').expect(400)).body.detail).toMatch(/bad stream id/);
    await as(dev).get('/streams?info=perhaps').expect(400);
    await r.xadd('default:site1/cam', '1-0', 'd', 's');
    expect((await as(dev).get('/streams/site1%2Fcam').expect(200)).body.id).toBe('default:site1/cam');
  });

  it('merges metadata by default and replaces it with override=true', async () => {
    const first = await as(dev).put('/streams/cam1').send({ format: 'jpeg', fps: 30 }).expect(200);
    expect(first.body).toEqual({ format: 'jpeg', fps: 30 });
    const merged = await as(dev).put('/streams/cam1').send({ fps: 15, owner: 'ops' }).expect(200);
    expect(merged.body).toEqual({ format: 'jpeg', fps: 15, owner: 'ops' });
    expect((await as(dev).get('/streams/cam1').expect(200)).body.meta).toEqual(merged.body);
    const replaced = await as(dev).put('/streams/cam1?override=true').send({ only: 1 }).expect(200);
    expect(replaced.body).toEqual({ only: 1 });
    expect(JSON.parse((await r.get(':stream:meta:default:cam1'))!)).toEqual({ only: 1 });
  });

  it('refuses bad metadata with 400 and read-only users with 403', async () => {
    for (const body of [[1, 2], { maxlen: -1 }, { maxlen: 1.5 }, { max_age_ms: '60000' }]) {
      const res = await as(dev).put('/streams/cam2').send(body).expect(400);
      expect(res.body.detail).toEqual(expect.any(String));
    }
    await as(dev).put('/streams/cam2').set('Content-Type', 'application/json').send('{oops').expect(400);
    const camOnly = await tokenFor(svc.http, 'cam-only', 'pw');
    const res = await as(camOnly).put('/streams/cam2').send({ a: 1 }).expect(403);
    expect(res.body.detail).toBe('no write permission for stream cam2');
    expect(await r.exists(':stream:meta:default:cam2')).toBe(0);
  });

  it('applies maxlen from metadata on the next writes', async () => {
    await as(dev).put('/streams/capped').send({ maxlen: 10 }).expect(200);
    for (let i = 0; i < 3; i++) {
      let req = request(svc.http).post('/data/capped').set('Authorization', `Bearer ${dev}`);
      for (let j = 0; j < 150; j++) req = req.attach('entries', Buffer.from(`e${j}`), 'capped');
      await req.expect(201);
    }
    // MAXLEN ~ trims whole radix-tree nodes (100 entries each): far fewer than the 450 written
    expect(await r.xlen('default:capped')).toBeLessThanOrEqual(110);
  });

  it('trims by max_age_ms in the sweep, and two instances sweep once', async () => {
    const old = Date.now() - 3600_000;
    const pipe = r.pipeline();
    for (let i = 0; i < 300; i++) pipe.xadd('default:aged', `${old + i}-0`, 'd', 'old');
    await pipe.exec();
    const fresh = (await r.xadd('default:aged', '*', 'd', 'fresh')) as string;
    await as(dev).put('/streams/aged').send({ max_age_ms: 60_000, maxlen: 0 }).expect(200);
    const other = await startApp(redis.url, env);
    try {
      await r.del(SWEEP_LOCK_KEY);
      const results = await Promise.all([
        svc.app.get(RetentionService).sweep(),
        other.app.get(RetentionService).sweep(),
      ]);
      const ran = results.filter((x) => x !== null);
      expect(ran).toHaveLength(1);
      expect(ran[0].removed).toBeGreaterThanOrEqual(200);
      expect(await r.pttl(SWEEP_LOCK_KEY)).toBeGreaterThan(50_000);
      const left = await r.xrange('default:aged', '-', '+');
      expect(left.length).toBeLessThan(101);
      expect(left[left.length - 1][0]).toBe(fresh);
      expect(await other.app.get(RetentionService).sweep()).toBeNull();
    } finally {
      await other.close();
    }
  });

  it('a stream deleted through the service and created anew with lower ids is followed again', async () => {
    const key = 'default:reborn';
    await r.xadd(key, '5000-1', 'd', 'old');
    const before = await TestSocket.open(`${svc.ws}/data/reborn/pull`, root); // the hub follows the stream from 5000-1
    await new Promise((r) => setTimeout(r, 100));
    const res = await fetch(`${svc.http}/streams/reborn`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${root}` },
    });
    expect(res.status).toBe(204);
    await r.xadd(key, '1000-1', 'd', 'first again');
    const after = await TestSocket.open(`${svc.ws}/data/reborn/pull`, root); // `$` is now the new stream's newest entry
    await new Promise((r) => setTimeout(r, 100));
    await r.xadd(key, '1500-1', 'd', 'second again');
    expect(await after.message()).toEqual([{ streamId: 'reborn', id: '1500-1', data: Buffer.from('second again') }]);
    // a cursor only moves forward: the reader that was at 5000-1 gets nothing below it
    expect(await before.silentFor(200)).toBe(true);
    before.close();
    after.close();
  });

  it('deletes data and metadata for an admin only; 404 afterwards', async () => {
    await as(dev).put('/streams/cam2').send({ a: 1 }).expect(200);
    const refused = await as(dev).delete('/streams/cam2').expect(403);
    expect(refused.body.detail).toBe('deleting a stream needs the admin role');
    expect(await r.exists('default:cam2')).toBe(1);
    await as(root).delete('/streams/cam2').expect(204);
    expect(await r.exists('default:cam2', ':stream:meta:default:cam2')).toBe(0);
    await as(root).get('/streams/cam2').expect(404);
    await as(root).delete('/streams/cam2').expect(404);
    await as(root).delete('/streams/planned').expect(204);
    expect(await r.exists(':stream:meta:default:planned')).toBe(0);
    expect((await as(root).get('/streams').expect(200)).body).not.toContain('planned');
  });

  it('needs a token on every /streams route', async () => {
    for (const [method, path] of [
      ['get', '/streams'],
      ['get', '/streams/cam1'],
      ['put', '/streams/cam1'],
      ['delete', '/streams/cam1'],
    ] as const) {
      const res = await request(svc.http)[method](path).expect(401);
      expect(res.body.detail).toMatch(/token/);
    }
  });
});
