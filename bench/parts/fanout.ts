import { BenchContext, check, CPU_HEADERS, cpuColumns, PartResult } from '../lib/context';
import { pacedRun } from '../lib/paced';
import { CpuUse, rssKiB } from '../lib/procs';
import { redisConnections } from '../lib/service';
import { ms, num, printTable, progress } from '../lib/stats';
import { ClientWorkers } from '../lib/workers';

/** Deliveries per second offered to the readers: entries/s × readers. */
const OFFERED = 300_000;
const SIZE = 100;

/**
 * Fan-out: 1,000 and 5,000 readers (count=1, clients in worker processes) of one stream of 100 B
 * entries pushed at OFFERED / readers per second. Delivered entries/s, latency, the service's RSS
 * and the Redis connections it holds.
 */
export async function fanout(ctx: BenchContext): Promise<PartResult> {
  const runMs = ctx.duration(3);
  const rows: Record<string, number | CpuUse>[] = [];
  const connections: { readers: number; service: number; total: number }[] = [];
  await ctx.withService('fanout', async (svc) => {
    connections.push({ readers: 0, ...(await redisConnections(ctx.redis)) });
    for (const readers of [1000, 5000].filter((n) => ctx.wants(`fanout ${n}`))) {
      const sid = `fanout-${readers}`;
      const rate = OFFERED / readers;
      progress(`fanout: opening ${readers} readers`);
      const workers = ClientWorkers.start(readers);
      try {
        const rssBefore = rssKiB(svc.pid);
        await workers.open(`${svc.ws}/data/${sid}/pull?count=1`, svc.token, readers, SIZE);
        connections.push({ readers, ...(await redisConnections(ctx.redis)) });
        progress(`fanout: ${rate}/s of ${SIZE} B to ${readers} readers for ${runMs / 1000} s`);
        let rssPeak = rssKiB(svc.pid);
        const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssKiB(svc.pid))), 100);
        const meter = ctx.meter(svc, Object.fromEntries(workers.pids.map((pid, w) => [`clients${w}`, pid])));
        const run = await pacedRun(svc, workers, sid, { size: SIZE, rate, ms: runMs, readers }).finally(() =>
          clearInterval(sampler),
        );
        rows.push({
          readers,
          rate,
          ...run,
          deliveredPerSec: run.delivered / run.seconds,
          rssBeforeKiB: rssBefore,
          rssPeakKiB: rssPeak,
          redisConnections: connections[connections.length - 1].service,
          cpu: meter.stop(),
        });
      } finally {
        await workers.stop();
        await ctx.settle(svc);
      }
    }
  });
  const n = (r: Record<string, number | CpuUse>, k: string): number => r[k] as number;
  printTable(
    `Fan-out: one stream of ${SIZE} B entries, pull count=1, ${OFFERED.toLocaleString('en-US')} deliveries/s offered, ${runMs / 1000} s`,
    [
      'readers',
      'push/s',
      'delivered',
      'lost',
      'delivered/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'RSS before',
      'RSS peak',
      'redis conns',
      ...CPU_HEADERS,
    ],
    rows.map((r) => [
      n(r, 'readers'),
      n(r, 'rate'),
      n(r, 'delivered'),
      n(r, 'expected') - n(r, 'delivered'),
      n(r, 'deliveredPerSec'),
      ms(n(r, 'p50')),
      ms(n(r, 'p99')),
      ms(n(r, 'max')),
      `${Math.round(n(r, 'rssBeforeKiB') / 1024)} MiB`,
      `${Math.round(n(r, 'rssPeakKiB') / 1024)} MiB`,
      n(r, 'redisConnections'),
      ...cpuColumns(r.cpu as CpuUse, n(r, 'deliveredPerSec')),
    ]),
  );
  printTable(
    'Redis connections held by the service (CLIENT LIST, name redis-streamer:*) by number of readers',
    ['readers', 'service connections', 'all connections'],
    connections.map((c) => [c.readers, c.service, c.total]),
  );
  const thousand = rows.find((r) => r.readers === 1000);
  const constant = connections.every((c) => c.service === connections[0].service);
  return {
    part: 'fanout',
    cells: rows,
    targets: [
      check(
        'Redis connections constant in readers',
        connections.map((c) => `${c.readers} readers: ${c.service}`).join(', '),
        constant,
      ),
      thousand
        ? check(
            '≥ 100,000 delivered entries/s to 1,000 readers of 100 B',
            `${num(n(thousand, 'deliveredPerSec'))}/s (offered ${num(OFFERED)}/s; ${num(n(thousand, 'expected') - n(thousand, 'delivered'))} not delivered within 5 s)`,
            n(thousand, 'deliveredPerSec') >= 100_000,
          )
        : check('≥ 100,000 delivered entries/s to 1,000 readers of 100 B', 'not run', null),
    ],
    notes: [
      'delivered/s = deliveries / (first push → last delivery); clients run in child processes, ≤ 2,500 sockets each.',
    ],
  };
}
