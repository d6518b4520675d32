import request from 'supertest';
import { startApp, startRedis, TestApp, tokenFor } from './harness';
import { TestSocket } from './support/ws-client';

async function until(check: () => Promise<boolean>, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('health, metrics and docs', () => {
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

  it('is 200 while Redis is up, 503 when it is killed, and 200 again after it restarts', async () => {
    const up = await request(svc.http).get('/health').expect(200);
    expect(up.body).toMatchObject({ status: 'ok', redis: 'up' });
    await redis.kill();
    await until(async () => (await request(svc.http).get('/health')).status === 503);
    const down = await request(svc.http).get('/health').expect(503);
    expect(down.body).toMatchObject({ status: 'unavailable', redis: 'down' });
    await redis.boot();
    await until(async () => (await request(svc.http).get('/health')).status === 200);
  });

  it('serves Prometheus metrics behind the token, with route templates as labels', async () => {
    await request(svc.http).get('/metrics').expect(401);
    const token = await tokenFor(svc.http);
    const res = await request(svc.http).get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/http_requests_total\{method="POST",route="\/token",status="200"\} \d+/);
    expect(res.text).toMatch(/http_requests_total\{method="GET",route="\/metrics",status="401"\} 1/);
    expect(res.text).toContain('process_resident_memory_bytes');
  });

  it('counts entries and bytes pulled over WebSocket and REST, each once, whatever the number of scrapes', async () => {
    const token = await tokenFor(svc.http);
    const scrape = async (): Promise<string> =>
      (await request(svc.http).get('/metrics').set('Authorization', `Bearer ${token}`).expect(200)).text;
    const counted = (text: string, name: string, transport: string): number =>
      Number(new RegExp(`^${name}\\{transport="${transport}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    const before = await scrape();
    const pusher = await TestSocket.open(`${svc.ws}/data/counted/push?ack=1`, token);
    for (const data of ['a', 'bb', 'ccc']) {
      await pusher.send(Buffer.from(data));
      await pusher.nextText();
    }
    pusher.close();
    const reader = await TestSocket.open(`${svc.ws}/data/counted/pull?last_entry_id=0&count=10`, token);
    expect((await reader.message()).map((e) => e.data.toString())).toEqual(['a', 'bb', 'ccc']);
    reader.close();
    await request(svc.http)
      .get('/data/counted?last_entry_id=0&count=2')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    for (const text of [await scrape(), await scrape()]) {
      expect(counted(text, 'entries_pulled_total', 'ws') - counted(before, 'entries_pulled_total', 'ws')).toBe(3);
      expect(counted(text, 'bytes_pulled_total', 'ws') - counted(before, 'bytes_pulled_total', 'ws')).toBe(6);
      expect(counted(text, 'entries_pulled_total', 'rest') - counted(before, 'entries_pulled_total', 'rest')).toBe(2);
      expect(counted(text, 'bytes_pulled_total', 'rest') - counted(before, 'bytes_pulled_total', 'rest')).toBe(3);
    }
  });

  it('serves /metrics without a token when METRICS_PUBLIC=true', async () => {
    const open = await startApp(redis.url, { METRICS_PUBLIC: 'true' });
    try {
      await request(open.http).get('/metrics').expect(200);
    } finally {
      await open.close();
    }
  });

  it('serves the OpenAPI portal and its assets itself, with bearer auth declared', async () => {
    const page = await request(svc.http).get('/docs').redirects(1).expect(200);
    expect(page.text).toContain('swagger-ui');
    expect(page.text).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs)/);
    const bundle = await request(svc.http).get('/docs/swagger-ui-bundle.js').expect(200);
    expect(bundle.text.length).toBeGreaterThan(100000);
    const spec = await request(svc.http).get('/docs-json').expect(200);
    expect(spec.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/token', '/health', '/metrics']));
  });
});

describe('boot', () => {
  it('starts with Redis unreachable, reports 503, and serves once Redis appears', async () => {
    const redis = await startRedis();
    const url = redis.url;
    await redis.kill();
    const svc = await startApp(url);
    try {
      await request(svc.http).get('/health').expect(503);
      await redis.boot();
      await until(async () => (await request(svc.http).get('/health')).status === 200);
    } finally {
      await svc.close();
      await redis.cleanup();
    }
  });
});
