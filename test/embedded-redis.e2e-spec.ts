import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createApp } from '../src/app.factory';
import { RedisConnections } from '../src/redis/redis-connections';
import { RedisServerNotFoundError, RedisServerProcess } from '../src/redis/redis-server.launcher';
import { TEST_SECRET } from './harness';

const refused = (port: number): Promise<boolean> =>
  new Promise((done) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      done(false);
    });
    s.once('error', () => done(true));
  });

describe('embedded Redis (REDIS_URL unset)', () => {
  it('starts its own redis-server with AOF in REDIS_DATA_DIR and stops it on shutdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rs-embedded-'));
    const app = await createApp({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'error', REDIS_DATA_DIR: dir });
    try {
      await app.listen(0, '127.0.0.1');
      await request(app.getHttpServer()).get('/health').expect(200);
      const url = new URL(app.get(RedisConnections).url);
      expect(url.hostname).toBe('127.0.0.1');
      expect(readdirSync(dir)).toContain('appendonlydir');
      await app.close();
      expect(await refused(Number(url.port))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains how to install redis-server when it is missing', async () => {
    const start = RedisServerProcess.start({ dir: tmpdir(), command: 'redis-server-not-installed' });
    await expect(start).rejects.toThrow(RedisServerNotFoundError);
    await expect(start).rejects.toThrow(/apt-get install redis-server.*REDIS_URL/);
  });
});
