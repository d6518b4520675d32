import { redisClient, startApp, startRedis, tokenFor } from './harness';
import { TestSocket } from './support/ws-client';

describe('WebSocket faults', () => {
  it('Redis killed mid-push: the pusher gets 1011 and every acked batch is there after restart', async () => {
    const redisServer = await startRedis();
    const svc = await startApp(redisServer.url, { STREAM_MAXLEN: '0' });
    try {
      const token = await tokenFor(svc.http);
      const ws = await TestSocket.open(`${svc.ws}/data/fault/push?ack=1`, token);
      const acked: string[] = [];
      let sent = 0;
      const pushing = (async () => {
        for (;;) {
          await ws.send('[0,4]');
          await ws.send(Buffer.from(`b${String(sent).padStart(3, '0')}xyz`.slice(0, 8)));
          sent++;
          const ack = await ws.nextText(3000).catch(() => null);
          if (ack === null) return;
          acked.push(...ack.split(','));
        }
      })();
      while (acked.length < 200) await new Promise((r) => setTimeout(r, 5));
      await redisServer.kill();
      await pushing;
      const closed = await ws.closedWith();
      expect(closed.code).toBe(1011);
      expect(closed.reason).toMatch(/storage/);
      await redisServer.boot();
      const check = redisClient(redisServer.url);
      const stored = ((await check.xrange('default:fault', '-', '+')) as [string, string[]][]).map(([id]) => id);
      check.disconnect();
      expect(acked.length).toBeGreaterThanOrEqual(200);
      for (const id of acked) expect(stored).toContain(id);
      // batches are atomic: the stream holds whole pairs only
      expect(stored.length % 2).toBe(0);
    } finally {
      await svc.close();
      await redisServer.cleanup();
    }
  });

  it('graceful shutdown: in-flight batches are stored and acked, then sockets close with 1001', async () => {
    const redisServer = await startRedis();
    const svc = await startApp(redisServer.url, { STREAM_MAXLEN: '0' });
    try {
      const token = await tokenFor(svc.http);
      const pusher = await TestSocket.open(`${svc.ws}/data/bye/push?ack=1`, token);
      const reader = await TestSocket.open(`${svc.ws}/data/bye/pull`, token);
      for (let i = 0; i < 20; i++) await pusher.send(Buffer.from(`e${i}`));
      await new Promise((r) => setTimeout(r, 50));
      await svc.close();
      const acks: string[] = [];
      while (pusher.frames.length) acks.push((await pusher.next()).data.toString());
      expect((await pusher.closedWith()).code).toBe(1001);
      expect((await reader.closedWith()).code).toBe(1001);
      const check = redisClient(redisServer.url);
      const stored = ((await check.xrange('default:bye', '-', '+')) as [string, string[]][]).map(([id]) => id);
      check.disconnect();
      expect(acks).toEqual(stored);
      expect(stored).toHaveLength(20);
    } finally {
      await redisServer.cleanup();
    }
  });

  it('refuses upgrades past WS_MAX_CONNECTIONS with 503 and serves again once one closes', async () => {
    const redisServer = await startRedis();
    const svc = await startApp(redisServer.url, { WS_MAX_CONNECTIONS: '2' });
    try {
      const token = await tokenFor(svc.http);
      const a = await TestSocket.open(`${svc.ws}/data/lim/pull`, token);
      const b = await TestSocket.open(`${svc.ws}/data/lim/push`, token);
      const refused = TestSocket.open(`${svc.ws}/data/lim/pull`, token);
      await expect(refused).rejects.toMatchObject({ status: 503 });
      await expect(refused.catch((e: { body: string }) => JSON.parse(e.body) as unknown)).resolves.toEqual({
        detail: 'Too many WebSocket connections (limit 2)',
      });
      a.close();
      await a.closedWith();
      await new Promise((r) => setTimeout(r, 50));
      const c = await TestSocket.open(`${svc.ws}/data/lim/pull`, token);
      b.close();
      c.close();
    } finally {
      await svc.close();
      await redisServer.cleanup();
    }
  });
});
