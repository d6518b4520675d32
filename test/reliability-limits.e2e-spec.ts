import type Redis from 'ioredis';
import { connect, Socket } from 'node:net';
import { redisClient, startApp, startRedis, TestApp, tokenFor } from './harness';
import { TestSocket } from './support/ws-client';

/** Hostile ids, resource limits and slowloris brakes (RELIABILITY.md §6, §7). */

const HOSTILE_STREAM_IDS = [
  '..',
  'a/../b',
  'a/..',
  '?x',
  // ('a b' is not here: a space is what an unencoded `+` decodes to, so pulls read it as a+b, §4.)
  ' lead',
  'a\r\nb',
  'a\nFLUSHALL',
  'a\u0000b',
  'x'.repeat(201),
  'caméra',
  '📷',
  ':stream:meta:default:cam',
  ':devices:connected',
  ':event:device.connected',
  '/abs',
  'a//b',
  'trail/',
  '-dash',
];
// '..' is a legal device id by PROTOCOL §1 (dots allowed): its key '..:cam' is an ordinary data key.
const HOSTILE_DEVICE_IDS = ['*', '?', 'a b', 'a\r\nb', 'a\u0000b', 'd'.repeat(65), 'dév', ':devices', 'a:b', 'a/b'];

/** Commands Redis processed so far (an INFO call itself counts once, after it ran). */
async function commands(r: Redis): Promise<number> {
  const info = await r.info('stats');
  return Number(/total_commands_processed:(\d+)/.exec(info)![1]);
}

async function rawHttp(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (c: Buffer) => (out += c.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    setTimeout(() => s.destroy(), 3000);
  });
}

describe('reliability: hostile ids and resource limits', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: TestApp;
  let check: Redis;
  let token: string;
  let port: number;

  beforeAll(async () => {
    redis = await startRedis();
    svc = await startApp(redis.url, {
      WS_MAX_CONNECTIONS_PER_USER: '3',
      HTTP_MAX_BODY: '4096',
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
      HTTP_KEEPALIVE_TIMEOUT_MS: '1000',
    });
    port = Number(new URL(svc.http).port);
    check = redisClient(redis.url);
    token = await tokenFor(svc.http);
    // a known system key and data key, to prove nothing reaches them
    await check.set(':stream:meta:default:cam', '{"owner":"x"}');
    await check.xadd('default:cam', '*', 'd', 'hello');
  });
  afterAll(async () => {
    check.disconnect();
    await svc.close();
    await redis.cleanup();
  });

  const auth = (): Record<string, string> => ({ Authorization: `Bearer ${token}` });

  it('the test Redis is idle between requests (so command deltas mean something)', async () => {
    const a = await commands(check);
    await new Promise((r) => setTimeout(r, 300));
    const b = await commands(check);
    expect(b - a).toBe(1); // the first INFO itself
  });

  it('hostile stream ids are refused over REST and WebSocket before any Redis command', async () => {
    const seen: string[] = [];
    for (const id of HOSTILE_STREAM_IDS) {
      const enc = encodeURIComponent(id);
      const before = await commands(check);
      const statuses: number[] = [];
      statuses.push((await fetch(`${svc.http}/data/${enc}?block=0`, { headers: auth() })).status);
      statuses.push(
        (
          await fetch(`${svc.http}/data/${enc}`, {
            method: 'POST',
            headers: { ...auth(), 'content-type': 'application/octet-stream' },
            body: 'x',
          })
        ).status,
      );
      statuses.push((await fetch(`${svc.http}/streams/${enc}`, { headers: auth() })).status);
      statuses.push((await fetch(`${svc.http}/data/${enc}/range`, { headers: auth() })).status);
      for (const kind of ['push', 'pull']) {
        const refused = await TestSocket.open(`${svc.ws}/data/${enc}/${kind}`, token).then(
          (s) => {
            s.close();
            return 101;
          },
          (e: { status?: number }) => e.status ?? 0,
        );
        statuses.push(refused);
      }
      const after = await commands(check);
      expect({ id, ok: statuses.every((s) => s === 400 || s === 404), statuses }).toEqual({ id, ok: true, statuses });
      expect({ id, delta: after - before }).toEqual({ id, delta: 1 });
      seen.push(id);
    }
    expect(seen).toHaveLength(HOSTILE_STREAM_IDS.length);
  });

  it('hostile device ids are refused before any Redis command', async () => {
    for (const dev of HOSTILE_DEVICE_IDS) {
      const q = `device_id=${encodeURIComponent(dev)}`;
      const before = await commands(check);
      const statuses = [
        (await fetch(`${svc.http}/data/cam?block=0&${q}`, { headers: auth() })).status,
        (
          await fetch(`${svc.http}/data/cam?${q}`, {
            method: 'POST',
            headers: { ...auth(), 'content-type': 'application/octet-stream' },
            body: 'x',
          })
        ).status,
        (await fetch(`${svc.http}/streams/cam?${q}`, { headers: auth() })).status,
      ];
      for (const kind of ['push', 'pull']) {
        statuses.push(
          await TestSocket.open(`${svc.ws}/data/cam/${kind}?${q}`, token).then(
            (s) => {
              s.close();
              return 101;
            },
            (e: { status?: number }) => e.status ?? 0,
          ),
        );
      }
      const after = await commands(check);
      expect({ dev, ok: statuses.every((s) => s === 400 || s === 404), statuses }).toEqual({ dev, ok: true, statuses });
      expect({ dev, delta: after - before }).toEqual({ dev, delta: 1 });
    }
  });

  it('no request reaches a system key: they stay untouched and are never served', async () => {
    const res = await fetch(`${svc.http}/streams`, { headers: auth() });
    const ids = (await res.json()) as string[];
    expect(ids.some((i) => i.startsWith(':'))).toBe(false);
    expect(await check.get(':stream:meta:default:cam')).toBe('{"owner":"x"}');
    const keys = await check.keys('*');
    // only the data key, its metadata and what the service keeps for devices
    expect(keys.filter((k) => !(k === 'default:cam' || k.startsWith(':')))).toEqual([]);
  });

  it('refuses count > 10000, block > 30000 and more than 64 streams in a pull, with 400', async () => {
    const r1 = await fetch(`${svc.http}/data/cam?count=10001&block=0`, { headers: auth() });
    expect(r1.status).toBe(400);
    expect(((await r1.json()) as { detail: string }).detail).toMatch(/count/);
    const r2 = await fetch(`${svc.http}/data/cam?block=30001`, { headers: auth() });
    expect(r2.status).toBe(400);
    expect(((await r2.json()) as { detail: string }).detail).toMatch(/block/);
    const many = Array.from({ length: 65 }, (_, i) => `s${i}`).join('+');
    const r3 = await fetch(`${svc.http}/data/${encodeURIComponent(many)}?block=0`, { headers: auth() });
    expect(r3.status).toBe(400);
    await expect(TestSocket.open(`${svc.ws}/data/${encodeURIComponent(many)}/pull`, token)).rejects.toMatchObject({
      status: 400,
    });
    await expect(TestSocket.open(`${svc.ws}/data/cam/pull?count=10001`, token)).rejects.toMatchObject({
      status: 400,
    });
    const ok = Array.from({ length: 64 }, (_, i) => `s${i}`).join('+');
    const r4 = await fetch(`${svc.http}/data/${encodeURIComponent(ok)}?block=0`, { headers: auth() });
    expect(r4.status).toBe(204);
  });

  it('refuses a body larger than HTTP_MAX_BODY with 413 and stores nothing', async () => {
    const res = await fetch(`${svc.http}/data/big`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(5000, 1),
    });
    expect(res.status).toBe(413);
    expect(await check.exists('default:big')).toBe(0);
  });

  it('refuses connections past WS_MAX_CONNECTIONS_PER_USER with 429; other users and freed slots still work', async () => {
    const open = [
      await TestSocket.open(`${svc.ws}/data/lim/pull`, token),
      await TestSocket.open(`${svc.ws}/data/lim/push`, token),
      await TestSocket.open(`${svc.ws}/data/lim2/pull`, token),
    ];
    const refused = await TestSocket.open(`${svc.ws}/data/lim/pull`, token).catch(
      (e: { status: number; body: string }) => e,
    );
    expect(refused).toMatchObject({ status: 429 });
    expect(JSON.parse((refused as { body: string }).body)).toEqual({
      detail: 'Too many WebSocket connections for this user (limit 3)',
    });
    const other = await TestSocket.open(`${svc.ws}/data/lim/pull`, await tokenFor(svc.http, 'other'));
    other.close();
    open[0].close();
    await open[0].closedWith();
    await new Promise((r) => setTimeout(r, 50));
    // failed upgrades (after the user's slot was reserved) do not leak it
    for (let i = 0; i < 3; i++) {
      await expect(TestSocket.open(`${svc.ws}/data/cam/pull?count=0`, token)).rejects.toMatchObject({ status: 400 });
    }
    // malformed handshakes (ws answers 400 itself) after the reservation do not leak it either
    for (let i = 0; i < 4; i++) {
      const answer = await rawHttp(
        port,
        `GET /data/lim/pull HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: Upgrade\r\n` +
          'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: bad\r\n\r\n',
      );
      expect(answer).toMatch(/^HTTP\/1\.1 400/);
    }
    const again = await TestSocket.open(`${svc.ws}/data/lim/pull`, token);
    for (const s of [again, ...open.slice(1)]) s.close();
  });

  it('slowloris: a client that never finishes its headers is cut off by HTTP_HEADERS_TIMEOUT_MS', async () => {
    const sockets: Socket[] = [];
    const closedAt: number[] = [];
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) {
      const s = connect(port, '127.0.0.1', () => s.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: '));
      s.on('error', () => undefined);
      s.on('close', () => closedAt.push(Date.now() - t0));
      sockets.push(s);
    }
    // trickle a byte every 200 ms: still never completes
    const trickle = setInterval(() => sockets.forEach((s) => !s.destroyed && s.write('a')), 200);
    const deadline = Date.now() + 5000;
    while (closedAt.length < sockets.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    clearInterval(trickle);
    sockets.forEach((s) => s.destroy());
    expect(closedAt.length).toBe(50);
    expect(Math.max(...closedAt)).toBeLessThan(3500);
    // the service still answers
    expect((await fetch(`${svc.http}/health`)).status).toBe(200);
  });

  it('a stalled upload is cut off by HTTP_REQUEST_TIMEOUT_MS and stores nothing', async () => {
    const t0 = Date.now();
    const answer = await rawHttp(
      port,
      `POST /data/stall HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
        'Content-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\nonly-part',
    );
    const took = Date.now() - t0;
    expect(took).toBeLessThan(3000);
    expect(answer).toMatch(/^HTTP\/1\.1 408|^$/);
    expect(await check.exists('default:stall')).toBe(0);
  });

  it('idle kept-alive and half-open sockets are closed; a WebSocket peer that never reads is bounded', async () => {
    // kept-alive idle connection
    const idleClosed = await new Promise<number>((resolve) => {
      const t0 = Date.now();
      const s = connect(port, '127.0.0.1', () => s.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'));
      s.on('data', () => undefined);
      s.on('close', () => resolve(Date.now() - t0));
      s.on('error', () => undefined);
    });
    expect(idleClosed).toBeLessThan(3000);
    // half-open: the client ends its side after a partial request
    const halfOpen = await new Promise<number>((resolve) => {
      const t0 = Date.now();
      const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
        s.write('GET /health HTTP/1.1\r\nHost');
        s.end();
      });
      s.on('data', () => undefined);
      s.on('close', () => resolve(Date.now() - t0));
      s.on('error', () => undefined);
    });
    expect(halfOpen).toBeLessThan(3000);
  });
});
