import { startRedis, tokenFor } from './harness';
import { Fleet, LONG, sleep, startFleet, storedIds } from './support/reliability';
import { ServiceProcess, useBuiltService } from './support/service-process';

/**
 * RELIABILITY.md §2: the service itself (a real `node main.js` child) SIGKILLed and restarted on
 * the same port under ack=1 pushes; readers resume with their own cursor.
 */
describe('reliability: service SIGKILLed and restarted under load', () => {
  const build = useBuiltService();

  it(
    'loses no acked entry; readers resuming from their last id skip nothing and get nothing twice',
    async () => {
      const redis = await startRedis();
      const svc = await ServiceProcess.start(build.main, redis.url, { STREAM_MAXLEN: '0' });
      const phaseMs = LONG ? 10_000 : 1000;
      let fleet: Fleet | undefined;
      try {
        const token = await tokenFor(svc.http);
        fleet = startFleet(() => svc.ws, token, 'kill');
        const { pushers, readers } = fleet;
        await sleep(phaseMs);
        const ackedBefore = pushers.reduce((n, p) => n + p.stats.acked.length, 0);
        const killedAt = Date.now();
        await svc.kill();
        await sleep(300);
        await svc.boot();
        const downMs = Date.now() - killedAt;
        await sleep(phaseMs);
        await fleet.stopPushing();
        const stored = await storedIds(redis.url, fleet.devices, 'kill');
        // readers catch up with everything stored, then stop
        await fleet.drainReaders(stored);

        expect(ackedBefore).toBeGreaterThan(0);
        let acked = 0;
        let unacked = 0;
        const codes = new Set<number>();
        for (const p of pushers) {
          const have = new Set(stored.get(p.stats.device));
          expect(p.stats.acked.filter((id) => !have.has(id))).toEqual([]);
          expect(stored.get(p.stats.device)!.length % 2).toBe(0);
          expect(p.stats.reconnects).toBeGreaterThanOrEqual(2);
          acked += p.stats.acked.length;
          unacked += p.stats.unacked;
          p.stats.closeCodes.forEach((c) => codes.add(c));
        }
        for (const r of readers) {
          expect(r.stats.ids).toEqual(stored.get(r.device));
          expect(r.stats.reconnects).toBeGreaterThanOrEqual(2);
        }
        const entries = [...stored.values()].reduce((n, s) => n + s.length, 0);
        console.log(
          `[reliability §2] stored=${entries} acked=${acked} unacked-batches=${unacked} (stored but unacked: ${entries - acked}) ` +
            `down+restart=${downMs} ms pusher-close-codes=${[...codes].join('/')} readers=${readers.length}`,
        );
      } finally {
        fleet?.abort();
        await svc.stop();
        await redis.cleanup();
      }
    },
    LONG ? 180_000 : 60_000,
  );
});
