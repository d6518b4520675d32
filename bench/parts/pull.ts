import { rawRead, writeHistory } from '../lib/baselines';
import { BenchContext, check, CPU_HEADERS, cpuColumns, PartResult } from '../lib/context';
import { CpuUse } from '../lib/procs';
import { ServiceProcess } from '../lib/service';
import { closeAll, failOnClose, openSocket } from '../lib/sockets';
import { KiB, now, printTable, progress, ratio, sizeLabel } from '../lib/stats';

const HISTORY = 100_000;
const COUNT = 100;
const RUNS = 2;

/** The gateway: one pull socket from `0` with count=100, until every entry arrived. */
async function gatewayRead(svc: ServiceProcess, sid: string, size: number, n: number): Promise<number> {
  const t0 = now();
  let got = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const ws = await openSocket(
    `${svc.ws}/data/${sid}/pull?last_entry_id=0&count=${COUNT}`,
    svc.token,
    (data, isBinary) => {
      if (isBinary && (got += data.length / size) >= n) done();
    },
  );
  await Promise.race([failOnClose(ws), all]).catch((err: Error) => {
    if (got < n) throw err;
  });
  const rate = got / ((now() - t0) / 1000);
  await closeAll([ws]);
  return rate;
}

export async function pull(ctx: BenchContext): Promise<PartResult> {
  return ctx.withService('pull', async (svc) => {
    const rows: { size: number; raw: number; gateway: number; cpuRaw: CpuUse; cpuGateway: CpuUse }[] = [];
    for (const size of [KiB, 100]) {
      const sid = `history-${size}`;
      const key = `default:${sid}`;
      progress(`pull: writing a ${HISTORY.toLocaleString('en-US')}-entry history of ${sizeLabel(size)}`);
      await writeHistory(ctx.redis, key, size, HISTORY);
      let raw = 0;
      let gateway = 0;
      let cpuRaw!: CpuUse;
      let cpuGateway!: CpuUse;
      // Best of RUNS for each, alternating, so that a burst of load elsewhere does not pick a winner.
      for (let run = 0; run < RUNS; run++) {
        progress(`pull: ${sizeLabel(size)} run ${run + 1}/${RUNS}: raw XREAD, then the gateway`);
        let meter = ctx.meter(svc);
        const r = await rawRead(ctx.redis, key, HISTORY, COUNT);
        if (r > raw) [raw, cpuRaw] = [r, meter.stop()];
        meter = ctx.meter(svc);
        const g = await gatewayRead(svc, sid, size, HISTORY);
        if (g > gateway) [gateway, cpuGateway] = [g, meter.stop()];
      }
      rows.push({ size, raw, gateway, cpuRaw, cpuGateway });
      await ctx.redis.del(key);
    }
    printTable(
      `Pull from history: ${HISTORY.toLocaleString('en-US')} entries from 0, count=${COUNT} (best of ${RUNS})`,
      ['size', 'reader', 'entries/s', 'MB/s', '× raw XREAD', ...CPU_HEADERS],
      rows.flatMap((r) => [
        [
          sizeLabel(r.size),
          'raw XREAD COUNT 100',
          r.raw,
          ((r.raw * r.size) / 1e6).toFixed(1),
          '1.00×',
          ...cpuColumns(r.cpuRaw, r.raw),
        ],
        [
          sizeLabel(r.size),
          'gateway ws pull',
          r.gateway,
          ((r.gateway * r.size) / 1e6).toFixed(1),
          ratio(r.gateway, r.raw),
          ...cpuColumns(r.cpuGateway, r.gateway),
        ],
      ]),
    );
    const kib = rows.find((r) => r.size === KiB)!;
    return {
      part: 'pull',
      cells: rows.map((r) => ({ ...r, ratio: r.gateway / r.raw })),
      targets: [
        check(
          'pull from history (1 KiB) ≥ 0.8× raw XREAD',
          `${(kib.gateway / kib.raw).toFixed(2)}× (${Math.round(kib.gateway).toLocaleString('en-US')} vs ${Math.round(kib.raw).toLocaleString('en-US')}/s)`,
          kib.gateway >= 0.8 * kib.raw,
        ),
      ],
    };
  });
}
