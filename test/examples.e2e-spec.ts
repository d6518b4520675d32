import { pullEntries } from '../examples/pull';
import { getToken, pushBatch } from '../examples/push';
import { startApp, startRedis, TestApp } from './harness';

describe('README example clients', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: TestApp;

  beforeAll(async () => {
    redis = await startRedis();
    svc = await startApp(redis.url);
  });
  afterAll(async () => {
    await svc.close();
    await redis.cleanup();
  });

  it('push example stores a batch; pull example reads it back from 0 byte for byte', async () => {
    const token = await getToken(svc.http, 'example', 'example');
    const payloads = Array.from({ length: 25 }, (_, i) => Buffer.from(`value-${i}`));
    const ids = await pushBatch(svc.ws, token, 'demo', payloads);
    expect(ids).toHaveLength(25);
    const got: { id: string; data: Buffer }[] = [];
    const stop = new AbortController();
    await pullEntries(
      svc.ws,
      token,
      'demo',
      '0',
      (e) => {
        got.push(e);
        if (got.length === 25) stop.abort();
      },
      stop.signal,
    );
    expect(got.map((e) => e.id)).toEqual(ids);
    expect(got.map((e) => e.data)).toEqual(payloads);
  });
});
