import { startApp, startRedis, tokenFor } from './harness';
import { Fleet, healthBecomes, LONG, sleep, startFleet, storedIds } from './support/reliability';

/**
 * RELIABILITY.md §1: Redis SIGKILLed and restarted (AOF, same port and dir) under continuous
 * ack=1 pushes from 10 devices and 50 readers pulling from a known cursor.
 */
describe('reliability: Redis killed and restarted under load', () => {
  it(
    'keeps every acked entry; pushers see 1011; readers get every stored entry once, in order; /health 503 then 200',
    async () => {
      const redis = await startRedis();
      const svc = await startApp(redis.url, { STREAM_MAXLEN: '0' });
      const phaseMs = LONG ? 10_000 : 1500;
      let fleet: Fleet | undefined;
      try {
        const token = await tokenFor(svc.http);
        fleet = startFleet(() => svc.ws, token, 'rel');
        const { pushers, readers } = fleet;
        await sleep(phaseMs);
        const ackedBeforeKill = pushers.reduce((n, p) => n + p.stats.acked.length, 0);
        await redis.kill();
        const down = await healthBecomes(svc.http, 503, 10_000);
        await sleep(500);
        await redis.boot();
        const up = await healthBecomes(svc.http, 200, 15_000);
        await sleep(phaseMs);
        await fleet.stopPushing();
        const stored = await storedIds(redis.url, fleet.devices, 'rel');
        // readers catch up with everything stored, then stop
        await fleet.drainReaders(stored);

        expect(down).toBe(503);
        expect(up).toBe(200);
        expect(ackedBeforeKill).toBeGreaterThan(0);
        let acked = 0;
        let unacked = 0;
        const codes = new Set<number>();
        for (const p of pushers) {
          const ids = stored.get(p.stats.device)!;
          const have = new Set(ids);
          expect(p.stats.acked.filter((id) => !have.has(id))).toEqual([]);
          // batches are whole: 2 entries each
          expect(ids.length % 2).toBe(0);
          acked += p.stats.acked.length;
          unacked += p.stats.unacked;
          p.stats.closeCodes.forEach((c) => codes.add(c));
          expect(p.stats.reconnects).toBeGreaterThanOrEqual(2);
        }
        // every pusher that lost Redis was told with 1011 (1005/1000 = our own close at the end)
        expect(codes.has(1011)).toBe(true);
        for (const c of codes) expect([1011, 1000, 1005]).toContain(c);
        let reconnectingReaders = 0;
        for (const r of readers) {
          expect(r.stats.ids).toEqual(stored.get(r.device));
          if (r.stats.reconnects > 1) reconnectingReaders++;
        }
        const entries = [...stored.values()].reduce((n, s) => n + s.length, 0);
        console.log(
          `[reliability §1] stored=${entries} acked=${acked} unacked-batches=${unacked} ` +
            `pusher-close-codes=${[...codes].join('/')} readers=${readers.length} reconnecting-readers=${reconnectingReaders}`,
        );
      } finally {
        fleet?.abort();
        await svc.close();
        await redis.cleanup();
      }
    },
    LONG ? 180_000 : 60_000,
  );
});
