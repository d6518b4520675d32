import { startApp, startRedis, tokenFor } from './harness';
import { checkPushers, healthBecomes, LONG, runThroughFault, sleep } from './support/reliability';

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
      let down = 0;
      let up = 0;
      try {
        const token = await tokenFor(svc.http);
        const run = await runThroughFault(
          () => svc.ws,
          token,
          redis.url,
          'rel',
          phaseMs,
          async () => {
            await redis.kill();
            down = await healthBecomes(svc.http, 503, 10_000);
            await sleep(500);
            await redis.boot();
            up = await healthBecomes(svc.http, 200, 15_000);
          },
        );

        expect(down).toBe(503);
        expect(up).toBe(200);
        expect(run.ackedBefore).toBeGreaterThan(0);
        const { acked, unacked, codes, entries } = checkPushers(run);
        // every pusher that lost Redis was told with 1011 (1005/1000 = our own close at the end)
        expect(codes.has(1011)).toBe(true);
        for (const c of codes) expect([1011, 1000, 1005]).toContain(c);
        let reconnectingReaders = 0;
        for (const r of run.fleet.readers) {
          expect(r.stats.ids).toEqual(run.stored.get(r.device));
          if (r.stats.reconnects > 1) reconnectingReaders++;
        }
        console.log(
          `[reliability §1] stored=${entries} acked=${acked} unacked-batches=${unacked} ` +
            `pusher-close-codes=${[...codes].join('/')} readers=${run.fleet.readers.length} reconnecting-readers=${reconnectingReaders}`,
        );
      } finally {
        await svc.close();
        await redis.cleanup();
      }
    },
    LONG ? 180_000 : 60_000,
  );
});
