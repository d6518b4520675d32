import { BenchContext, check, CPU_HEADERS, cpuColumns, PartResult } from '../lib/context';
import { pacedRun } from '../lib/paced';
import { CpuUse } from '../lib/procs';
import { KiB, ms, num, printTable, progress, sizeLabel } from '../lib/stats';
import { ClientWorkers } from '../lib/workers';

const CELLS = [
  { size: KiB, rate: 1000, readers: 1 },
  { size: 64 * KiB, rate: 100, readers: 1 },
  { size: KiB, rate: 1000, readers: 1000 },
  { size: 64 * KiB, rate: 100, readers: 1000 },
  // 100,000 deliveries/s: the load of the fan-out target (1,000/s to 1,000 readers is 1,000,000/s).
  { size: KiB, rate: 100, readers: 1000 },
];

/** Push-to-receive latency at fixed rates: one push socket here, readers in a client worker. */
export async function latency(ctx: BenchContext): Promise<PartResult> {
  const runMs = ctx.duration(3);
  return ctx.withService('latency', async (svc) => {
    const rows: ((typeof CELLS)[number] & Awaited<ReturnType<typeof pacedRun>> & { cpu: CpuUse })[] = [];
    for (const [i, cell] of CELLS.entries()) {
      if (!ctx.wants(`latency ${sizeLabel(cell.size)} ${cell.readers}`)) continue;
      progress(`latency: ${cell.rate}/s of ${sizeLabel(cell.size)} to ${cell.readers} reader(s)`);
      const sid = `latency-${i}`;
      const workers = ClientWorkers.start(cell.readers);
      try {
        await workers.open(`${svc.ws}/data/${sid}/pull?count=1`, svc.token, cell.readers, cell.size);
        const meter = ctx.meter(svc, Object.fromEntries(workers.pids.map((pid, w) => [`clients${w}`, pid])));
        const run = await pacedRun(svc, workers, sid, { ...cell, ms: runMs });
        rows.push({ ...cell, ...run, cpu: meter.stop() });
      } finally {
        await workers.stop();
        await ctx.settle(svc);
      }
    }
    printTable(
      `Push-to-receive latency (ms), ${runMs / 1000} s per row, single-entry push frames, pull count=1`,
      ['size', 'rate/s', 'readers', 'samples', 'lost', 'p50', 'p99', 'max', ...CPU_HEADERS],
      rows.map((r) => [
        sizeLabel(r.size),
        r.rate,
        r.readers,
        r.delivered,
        r.expected - r.delivered,
        ms(r.p50),
        ms(r.p99),
        ms(r.max),
        ...cpuColumns(r.cpu),
      ]),
    );
    const verdict = (readers: number, limit: number) => {
      const name = `p99 ≤ ${limit} ms at 1,000/s of 1 KiB, ${num(readers)} reader${readers > 1 ? 's' : ''}`;
      const r = rows.find((row) => row.size === KiB && row.rate === 1000 && row.readers === readers);
      if (!r) return check(name, 'not run', null);
      const lost = r.expected - r.delivered;
      const measured = `p99 ${ms(r.p99)} ms (p50 ${ms(r.p50)}, max ${ms(r.max)}${lost ? `; ${num(lost)} not delivered within 5 s` : ''})`;
      return check(name, measured, r.p99 <= limit);
    };
    return {
      part: 'latency',
      cells: rows,
      targets: [verdict(1, 5), verdict(1000, 50)],
      notes: [
        'Latency = receive wall time in the reader process − send wall time stamped in the entry; histogram buckets 1 % wide.',
      ],
    };
  });
}
