import { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createApp } from '../src/app.factory';
import { RedisServerProcess } from '../src/redis/redis-server.launcher';

export const TEST_SECRET = 'test-secret-0123456789-0123456789-0123456789';

/** A private redis-server for one test file (same launcher as the embedded default), AOF on. */
export async function startRedis(args: string[] = []): Promise<RedisServerProcess & { cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'rs-test-redis-'));
  const server = await RedisServerProcess.start({ dir, args });
  return Object.assign(server, {
    async cleanup(): Promise<void> {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

export interface TestApp {
  app: INestApplication;
  /** `http://127.0.0.1:<port>` */
  http: string;
  /** `ws://127.0.0.1:<port>` */
  ws: string;
  close(): Promise<void>;
}

/** The real application on a free port (or on `port`, e.g. to restart it where it was), talking to `redisUrl`. */
export async function startApp(redisUrl: string, env: Record<string, string> = {}, port = 0): Promise<TestApp> {
  const app = await createApp({
    NODE_ENV: 'test',
    REDIS_URL: redisUrl,
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'error',
    AUTH_DEV_MODE: 'true',
    // Tests fetch many tokens from one address; the brute-force brake has its own test.
    AUTH_RATE_LIMIT: '10000',
    ...env,
  });
  await app.listen(port, '127.0.0.1');
  const { port: bound } = app.getHttpServer().address() as { port: number };
  return {
    app,
    http: `http://127.0.0.1:${bound}`,
    ws: `ws://127.0.0.1:${bound}`,
    close: () => app.close(),
  };
}

/** A token from the service's own `/token` (dev mode: username == password). */
export async function tokenFor(http: string, username = 'tester', password = username): Promise<string> {
  const res = await fetch(`${http}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }),
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** A plain client on the test Redis, for assertions (never the app's connections). */
export function redisClient(url: string): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
}

/** What `useService` sets up for a test file; its fields are filled in `beforeAll`. */
export interface Service {
  redisServer: Awaited<ReturnType<typeof startRedis>>;
  svc: TestApp;
  /** A plain client on the test Redis, for seeding and assertions. */
  redis: Redis;
  /** A development-mode token of user `tester`. */
  token: string;
}

/**
 * The usual fixture of an e2e file: a private redis-server, the app on it (with `env`), a Redis
 * client and a token, torn down after the file. `env` may be a function for values known only in
 * `beforeAll` (e.g. a users file written there); `redisArgs` go to redis-server.
 */
export function useService(
  env: Record<string, string> | (() => Record<string, string>) = {},
  redisArgs: string[] = [],
): Service {
  const ctx = {} as Service;
  beforeAll(async () => {
    ctx.redisServer = await startRedis(redisArgs);
    ctx.svc = await startApp(ctx.redisServer.url, typeof env === 'function' ? env() : env);
    ctx.redis = redisClient(ctx.redisServer.url);
    ctx.token = await tokenFor(ctx.svc.http);
  });
  afterAll(async () => {
    ctx.redis?.disconnect();
    await ctx.svc?.close();
    await ctx.redisServer?.cleanup();
  });
  return ctx;
}
