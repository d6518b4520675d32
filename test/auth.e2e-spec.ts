import bcrypt from 'bcryptjs';
import jwt from 'jsonwebtoken';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApp, startRedis, TEST_SECRET, TestApp, tokenFor } from './harness';

const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('auth', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: TestApp;
  let usersFile: string;

  beforeAll(async () => {
    redis = await startRedis();
    usersFile = join(mkdtempSync(join(tmpdir(), 'rs-users-')), 'users.json');
    writeFileSync(
      usersFile,
      JSON.stringify([
        { username: 'alice', password_hash: bcrypt.hashSync('wonderland', 4), read: ['cam1:*'], write: ['cam1:*'] },
        { username: 'root', password_hash: bcrypt.hashSync('toor', 4), read: ['*'], write: ['*'], roles: ['admin'] },
      ]),
    );
    svc = await startApp(redis.url, { AUTH_USERS_FILE: usersFile, AUTH_DEV_MODE: 'true' });
  });
  afterAll(async () => {
    await svc.close();
    await redis.cleanup();
  });

  const protectedGet = (token?: string) => {
    const r = request(svc.http).get('/metrics');
    return token ? r.set('Authorization', `Bearer ${token}`) : r;
  };

  it('issues a token for an OAuth2 password form', async () => {
    const res = await request(svc.http)
      .post('/token')
      .type('form')
      .send({ grant_type: 'password', username: 'alice', password: 'wonderland', scope: '' })
      .expect(200);
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 43200 });
    const claims = jwt.verify(res.body.access_token, TEST_SECRET, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims.sub).toBe('alice');
    expect(claims.exp! - claims.iat!).toBe(43200);
    await protectedGet(res.body.access_token).expect(200);
  });

  it('issues a token for JSON credentials', async () => {
    const res = await request(svc.http).post('/token').send({ username: 'root', password: 'toor' }).expect(200);
    expect(res.body.token_type).toBe('bearer');
  });

  it('refuses wrong credentials with 401, detail and WWW-Authenticate', async () => {
    for (const body of [
      { username: 'alice', password: 'nope' },
      { username: 'nobody', password: 'x' },
      // a configured user is never matched by the development rule
      { username: 'alice', password: 'alice' },
    ]) {
      const res = await request(svc.http).post('/token').send(body).expect(401);
      expect(res.body).toEqual({ detail: 'Incorrect username or password' });
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
  });

  it('refuses a malformed token request with 400', async () => {
    const res = await request(svc.http).post('/token').send({ username: 'alice' }).expect(400);
    expect(res.body.detail).toMatch(/password/);
    await request(svc.http).post('/token').send({ username: 'a', password: 'a', extra: 1 }).expect(400);
    await request(svc.http).post('/token').set('content-type', 'application/json').send('{bad json').expect(400);
  });

  it('accepts development identities (username == password) when dev mode is on', async () => {
    const token = await tokenFor(svc.http, 'dev-user');
    await protectedGet(token).expect(200);
  });

  it('answers 401 without a token, with a bad one, and 200 from the query string', async () => {
    const res = await protectedGet().expect(401);
    expect(res.body.detail).toMatch(/token/);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    await protectedGet('not-a-jwt').expect(401);
    const token = await tokenFor(svc.http, 'q');
    await request(svc.http).get(`/metrics?token=${token}`).expect(200);
  });

  it('rejects expired, not-yet-valid, tampered, alg:none and RS/HS-confused tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = jwt.sign({ sub: 'alice', exp: now - 10 }, TEST_SECRET, { algorithm: 'HS256' });
    const future = jwt.sign({ sub: 'alice', exp: now + 600, nbf: now + 300 }, TEST_SECRET, { algorithm: 'HS256' });
    const noExp = jwt.sign({ sub: 'alice' }, TEST_SECRET, { algorithm: 'HS256' });
    const otherKey = jwt.sign({ sub: 'alice', exp: now + 600 }, 'another-secret-another-secret-another', {
      algorithm: 'HS256',
    });
    const good = jwt.sign({ sub: 'alice', exp: now + 600 }, TEST_SECRET, { algorithm: 'HS256' });
    const [h, p, s] = good.split('.');
    const tampered = `${h}.${b64({ sub: 'root', exp: now + 600 })}.${s}`;
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`;
    const hs384 = jwt.sign({ sub: 'alice', exp: now + 600 }, TEST_SECRET, { algorithm: 'HS384' });
    const rsHeader = `${b64({ alg: 'RS256', typ: 'JWT' })}.${p}.${s}`;
    const ghost = jwt.sign({ sub: 'removed-user', exp: now + 600 }, TEST_SECRET, { algorithm: 'HS256' });
    await protectedGet(good).expect(200);
    for (const t of [expired, future, noExp, otherKey, tampered, none, hs384, rsHeader]) {
      await protectedGet(t).expect(401);
    }
    // dev mode accepts any name; a users-file-only service would not (below)
    await protectedGet(ghost).expect(200);
  });

  it('rejects tokens of users that are not configured when dev mode is off', async () => {
    const strict = await startApp(redis.url, { AUTH_USERS_FILE: usersFile, AUTH_DEV_MODE: 'false' });
    try {
      const now = Math.floor(Date.now() / 1000);
      const ghost = jwt.sign({ sub: 'removed-user', exp: now + 600 }, TEST_SECRET, { algorithm: 'HS256' });
      await request(strict.http).get('/metrics').set('Authorization', `Bearer ${ghost}`).expect(401);
      await request(strict.http).post('/token').send({ username: 'x', password: 'x' }).expect(401);
      const alice = await tokenFor(strict.http, 'alice', 'wonderland');
      await request(strict.http).get('/metrics').set('Authorization', `Bearer ${alice}`).expect(200);
    } finally {
      await strict.close();
    }
  });

  it('refuses to boot on a broken users file, naming it', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'rs-users-')), 'users.json');
    writeFileSync(bad, JSON.stringify([{ username: 'x', password_hash: 'plaintext' }]));
    await expect(startApp(redis.url, { AUTH_USERS_FILE: bad })).rejects.toThrow(/AUTH_USERS_FILE.*password_hash/);
  });
});

describe('brute force on /token', () => {
  it('answers 429 past AUTH_RATE_LIMIT attempts a minute, also for correct passwords', async () => {
    const redis = await startRedis();
    const svc = await startApp(redis.url, { AUTH_RATE_LIMIT: '5' });
    try {
      for (let i = 0; i < 5; i++) {
        await request(svc.http)
          .post('/token')
          .send({ username: 'x', password: `wrong${i}` })
          .expect(401);
      }
      const res = await request(svc.http).post('/token').send({ username: 'x', password: 'x' }).expect(429);
      expect(res.body).toEqual({ detail: 'Too many attempts, try again in a minute' });
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      await request(svc.http).get('/health').expect(200);
    } finally {
      await svc.close();
      await redis.cleanup();
    }
  });
});
