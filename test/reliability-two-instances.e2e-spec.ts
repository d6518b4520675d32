import { redisClient, startApp, startRedis, tokenFor } from './harness';
import { runPusher, runReader, sleep } from './support/reliability';
import { TestSocket } from './support/ws-client';

/** RELIABILITY.md §4: two service instances on one Redis. */
describe('reliability: two instances on one Redis', () => {
  it('a push on A reaches readers on B; closing A under load loses no acked entry and B keeps serving', async () => {
    const redis = await startRedis();
    const a = await startApp(redis.url, { STREAM_MAXLEN: '0' });
    const b = await startApp(redis.url, { STREAM_MAXLEN: '0' });
    let stopPush = false;
    let stopRead = false;
    try {
      // tokens are shared (same JWT_SECRET): one from A works on B
      const token = await tokenFor(a.http);
      const readers = Array.from({ length: 10 }, () =>
        runReader(
          (cursor) => `${b.ws}/data/ab/pull?count=100&last_entry_id=${cursor}`,
          token,
          '0',
          () => stopRead,
        ),
      );
      const first = await TestSocket.open(`${a.ws}/data/ab/push?ack=1`, token);
      await first.send(Buffer.from('hello'));
      const firstId = await first.nextText();
      first.close();
      const pushers = Array.from({ length: 5 }, (_, i) =>
        runPusher(
          () => `${a.ws}/data/ab/push?ack=1`,
          token,
          `p${i}`,
          () => stopPush,
        ),
      );
      await sleep(800);
      const tClose = Date.now();
      await a.close();
      const closeMs = Date.now() - tClose;
      stopPush = true;
      await Promise.all(pushers.map((p) => p.done));
      // B still serves pushes and readers
      const later = await TestSocket.open(`${b.ws}/data/ab/push?ack=1`, token);
      await later.send(Buffer.from('after A'));
      const laterId = await later.nextText();
      later.close();

      const check = redisClient(redis.url);
      const stored = ((await check.xrange('default:ab', '-', '+')) as [string, string[]][]).map(([id]) => id);
      check.disconnect();
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && readers.some((r) => r.stats.ids.length < stored.length)) await sleep(100);
      stopRead = true;
      await Promise.all(readers.map((r) => r.done));

      expect(closeMs).toBeLessThan(1500);
      expect(stored[0]).toBe(firstId);
      expect(stored[stored.length - 1]).toBe(laterId);
      const acked = pushers.flatMap((p) => p.stats.acked);
      expect(acked.length).toBeGreaterThan(0);
      const have = new Set(stored);
      expect(acked.filter((id) => !have.has(id))).toEqual([]);
      // graceful close of A: every batch it received was stored and acked
      expect(stored.length).toBe(acked.length + 2);
      for (const p of pushers) expect(p.stats.closeCodes).toContain(1001);
      for (const r of readers) {
        expect(r.stats.ids).toEqual(stored);
        expect(r.stats.reconnects).toBe(1);
      }
      console.log(
        `[reliability §4] ${stored.length - 1} entries pushed via A, 1 via B, all read on B by 10 readers; A closed in ${closeMs} ms`,
      );
    } finally {
      stopPush = stopRead = true;
      await b.close();
      await redis.cleanup();
    }
  });
});
