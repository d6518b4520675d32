import { startRedis, tokenFor } from './harness';
import { checkPushers, LONG, runThroughFault, sleep } from './support/reliability';
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
      let downMs = 0;
      try {
        const token = await tokenFor(svc.http);
        const run = await runThroughFault(
          () => svc.ws,
          token,
          redis.url,
          'kill',
          phaseMs,
          async () => {
            const killedAt = Date.now();
            await svc.kill();
            await sleep(300);
            await svc.boot();
            downMs = Date.now() - killedAt;
          },
        );

        expect(run.ackedBefore).toBeGreaterThan(0);
        const { acked, unacked, codes, entries } = checkPushers(run);
        for (const r of run.fleet.readers) {
          expect(r.stats.ids).toEqual(run.stored.get(r.device));
          expect(r.stats.reconnects).toBeGreaterThanOrEqual(2);
        }
        console.log(
          `[reliability §2] stored=${entries} acked=${acked} unacked-batches=${unacked} (stored but unacked: ${entries - acked}) ` +
            `down+restart=${downMs} ms pusher-close-codes=${[...codes].join('/')} readers=${run.fleet.readers.length}`,
        );
      } finally {
        await svc.stop();
        await redis.cleanup();
      }
    },
    LONG ? 180_000 : 60_000,
  );
});
