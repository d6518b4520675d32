import { BenchContext, check, PartResult } from '../lib/context';
import { rssKiB } from '../lib/procs';
import { num, printTable, progress, sleep } from '../lib/stats';
import { ClientWorkers } from '../lib/workers';

const SOCKETS = 5000;
const KINDS = [
  { kind: 'push', path: 'idle-push/push', what: 'idle push sockets (devices that send nothing)' },
  { kind: 'pull', path: 'idle-pull/pull', what: 'idle pull sockets waiting on one quiet stream' },
];

/** RSS per idle authenticated WebSocket: a fresh service per kind, RSS before and after 5,000. */
export async function idle(ctx: BenchContext): Promise<PartResult> {
  const rows: {
    kind: string;
    sockets: number;
    openSeconds: number;
    rssBeforeKiB: number;
    rssAfterKiB: number;
    perSocketKiB: number;
  }[] = [];
  for (const { kind, path } of KINDS) {
    await ctx.withService(`idle-${kind}`, async (svc) => {
      await sleep(1000);
      const rssBeforeKiB = rssKiB(svc.pid);
      progress(`idle: opening ${SOCKETS} ${kind} sockets`);
      const workers = ClientWorkers.start(SOCKETS);
      try {
        const t0 = Date.now();
        const meter = ctx.meter(svc); // the window a --profile summary counts: the upgrades
        await workers.open(`${svc.ws}/data/${path}`, svc.token, SOCKETS);
        meter.stop();
        const openSeconds = (Date.now() - t0) / 1000;
        await sleep(2000);
        const rssAfterKiB = rssKiB(svc.pid);
        rows.push({
          kind,
          sockets: SOCKETS,
          openSeconds,
          rssBeforeKiB,
          rssAfterKiB,
          perSocketKiB: (rssAfterKiB - rssBeforeKiB) / SOCKETS,
        });
      } finally {
        await workers.stop();
      }
    });
  }
  printTable(
    `Idle authenticated WebSockets: service RSS (VmRSS) before and 2 s after opening ${SOCKETS.toLocaleString('en-US')}`,
    ['sockets', 'count', 'opened in', 'RSS before', 'RSS after', 'KiB per socket'],
    rows.map((r) => [
      r.kind,
      r.sockets,
      `${r.openSeconds.toFixed(1)} s`,
      `${Math.round(r.rssBeforeKiB / 1024)} MiB`,
      `${Math.round(r.rssAfterKiB / 1024)} MiB`,
      num(r.perSocketKiB, 1),
    ]),
  );
  return {
    part: 'idle',
    cells: rows,
    targets: rows.map((r) =>
      check(
        `≤ 50 KiB RSS per idle connection (${KINDS.find((k) => k.kind === r.kind)!.what})`,
        `${num(r.perSocketKiB, 1)} KiB`,
        r.perSocketKiB <= 50,
      ),
    ),
  };
}
