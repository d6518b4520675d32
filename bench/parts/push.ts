import { ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Measured, measured, rawScript, rawXadd } from '../lib/baselines';
import { BenchContext, check, CPU_HEADERS, cpuColumns, PartResult } from '../lib/context';
import { CpuUse } from '../lib/procs';
import { entriesAdded, ServiceProcess } from '../lib/service';
import { closeAll, failOnClose, openSocket } from '../lib/sockets';
import { KiB, MiB, now, num, printTable, progress, ratio, sizeLabel, until } from '../lib/stats';

/** Entries per batch frame for each payload size (a 1 MiB batch of 100 would pass WS_MAX_PAYLOAD). */
const SIZES = [
  { size: 100, batch: 100 },
  { size: KiB, batch: 100 },
  { size: 64 * KiB, batch: 100 },
  { size: MiB, batch: 10 },
];
type Ack = 'off' | 'await' | 'window';
type Target = 'gateway' | 'ws-sink';

interface Cell {
  target: Target;
  size: number;
  /** Entries per frame: 1 = single-entry frames, else header + blob batches. */
  perFrame: number;
  sockets: number;
  ack: Ack;
}

interface Frame {
  header: string | null;
  blob: Buffer;
  entries: number;
}

function frameOf(size: number, perFrame: number): Frame {
  const blob = randomBytes(size * perFrame);
  // Start offsets (the first is 0), the form both old clients send.
  const header = perFrame > 1 ? JSON.stringify(Array.from({ length: perFrame }, (_, i) => i * size)) : null;
  return { header, blob, entries: perFrame };
}

/** Frames in flight with a pipelined ack window: up to 64, about 4 MiB, at least 2. */
const windowFor = (frame: Frame): number => Math.max(2, Math.min(64, Math.floor((4 * MiB) / frame.blob.length)));

function sendFrame(ws: WebSocket, frame: Frame, sent?: (err?: Error) => void): void {
  if (frame.header) ws.send(frame.header);
  ws.send(frame.blob, sent);
}

/**
 * Sends frames on one socket until `end`; resolves to the entries sent (ack off) or acked.
 * Ack off keeps at most 8 MiB (or two frames) unwritten in the client; ack await sends the next
 * frame when the previous one's ack arrived; ack window keeps `windowFor` frames unacked.
 */
async function drive(ws: WebSocket, frame: Frame, ack: Ack, end: number): Promise<number> {
  if (ack === 'off') {
    const limit = Math.max(8 * MiB, 2 * frame.blob.length);
    let queued = 0;
    let sent = 0;
    let wake: (() => void) | undefined;
    const written = (): void => {
      queued -= frame.blob.length;
      if (wake && queued <= limit / 2) {
        wake();
        wake = undefined;
      }
    };
    while (now() < end) {
      if (queued > limit) await new Promise<void>((r) => (wake = r));
      sendFrame(ws, frame, written);
      queued += frame.blob.length;
      sent += frame.entries;
    }
    return sent;
  }
  const window = ack === 'await' ? 1 : windowFor(frame);
  return new Promise<number>((resolve) => {
    let inFlight = 0;
    let acked = 0;
    const pump = (): void => {
      while (inFlight < window && now() < end) {
        sendFrame(ws, frame);
        inFlight++;
      }
      if (inFlight === 0) resolve(acked);
    };
    ws.on('message', (_data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      inFlight--;
      acked += frame.entries;
      pump();
    });
    pump();
  });
}

interface Sink {
  url: string;
  child: ChildProcess;
}

function startSink(): Promise<Sink> {
  const child = fork(join(__dirname, '../lib/sink-server.js'), [], { stdio: ['ignore', 2, 2, 'ipc'] });
  return new Promise((done, fail) => {
    child.once('message', (m: { port: number }) => done({ url: `ws://127.0.0.1:${m.port}`, child }));
    child.once('exit', (code) => fail(new Error(`ws sink exited (${code})`)));
  });
}

function cellsToRun(): Cell[] {
  const cells: Cell[] = [];
  for (const { size, batch } of SIZES) {
    for (const perFrame of [1, batch]) {
      for (const sockets of [1, 16]) {
        for (const ack of ['off', 'await', 'window'] as const) {
          // Fewer 1 MiB cells: single frames on 1 and 16 sockets, batches on 1; no window.
          if (size === MiB && (ack === 'window' || (perFrame > 1 && sockets > 1))) continue;
          cells.push({ target: 'gateway', size, perFrame, sockets, ack });
        }
      }
    }
  }
  for (const size of [KiB, 64 * KiB]) {
    for (const perFrame of [1, 100]) {
      for (const ack of ['off', 'await'] as const) cells.push({ target: 'ws-sink', size, perFrame, sockets: 1, ack });
    }
  }
  return cells;
}

/** `paired`: raw XADD of the same size measured just before the cell (1 KiB gateway cells). */
type Row = Cell & Measured & { cpu: CpuUse; paired?: Measured };

const sameShape = (a: Cell, b: Cell): boolean =>
  a.size === b.size && a.perFrame === b.perFrame && a.sockets === b.sockets && a.ack === b.ack;

interface Baseline {
  size: number;
  xadd: Measured;
  script: Measured;
  xaddCpu: CpuUse;
  scriptCpu: CpuUse;
}

const cellLabel = (c: Cell): string =>
  `${c.target} ${sizeLabel(c.size)} x${c.perFrame} ${c.sockets} socket${c.sockets > 1 ? 's' : ''} ack ${c.ack}`;

/** One cell: open the sockets, send until the time is up, then wait until everything is stored. */
async function runCell(ctx: BenchContext, svc: ServiceProcess, sink: Sink, cell: Cell, cellMs: number): Promise<Row> {
  const frame = frameOf(cell.size, cell.perFrame);
  const query = cell.ack === 'off' ? '' : '?ack=1';
  const streams = Array.from({ length: cell.sockets }, (_, i) => `push-${i}`);
  const sockets = await Promise.all(
    streams.map((sid) =>
      cell.target === 'gateway'
        ? openSocket(`${svc.ws}/data/${sid}/push${query}`, svc.token)
        : openSocket(`${sink.url}/${sid}${query}`),
    ),
  );
  const meter = ctx.meter(cell.target === 'gateway' ? svc : null, { sink: sink.child.pid! });
  const t0 = now();
  const closed = Promise.race(sockets.map(failOnClose));
  closed.catch(() => undefined);
  const counts = await Promise.race([
    Promise.all(sockets.map((ws) => drive(ws, frame, cell.ack, t0 + cellMs))),
    closed,
  ]);
  const entries = counts.reduce((a, b) => a + b, 0);
  if (cell.ack === 'off' && cell.target === 'gateway') {
    // Done when every entry sent is stored.
    const keys = streams.map((sid) => `default:${sid}`);
    const stored = async (): Promise<number> =>
      (await Promise.all(keys.map((k) => entriesAdded(ctx.redis, k)))).reduce((a, b) => a + b, 0);
    await until(async () => (await stored()) >= entries, 120_000, 2);
  } else if (cell.ack === 'off') {
    // Done when the sink read everything: a ping is answered after the frames before it.
    await Promise.all(sockets.map((ws) => new Promise((r) => (ws.once('pong', r), ws.ping()))));
  }
  const m = measured(entries, cell.size, now() - t0);
  const cpu = meter.stop();
  await closeAll(sockets);
  if (cell.target === 'gateway') await ctx.redis.del(...streams.map((sid) => `default:${sid}`));
  return { ...cell, ...m, cpu };
}

export async function push(ctx: BenchContext): Promise<PartResult> {
  const cellMs = ctx.duration(1);
  const cells = cellsToRun().filter((c) => ctx.wants(cellLabel(c)));
  const sink = await startSink();
  try {
    return await ctx.withService('push', async (svc) => {
      const baselines: Baseline[] = [];
      for (const { size, batch } of SIZES) {
        if (!cells.some((c) => c.size === size)) continue;
        progress(`push: raw pipelined XADD and raw XADD_BATCH script, ${sizeLabel(size)}`);
        let meter = ctx.meter(null);
        const xadd = await rawXadd(ctx.redis, size, batch, cellMs);
        const xaddCpu = meter.stop();
        meter = ctx.meter(null);
        const script = await rawScript(ctx.redis, size, batch, cellMs);
        baselines.push({ size, xadd, xaddCpu, script, scriptCpu: meter.stop() });
      }
      // Warm-up (JIT, connection pools, retention cache), not reported.
      for (const perFrame of [1, 100]) {
        await runCell(ctx, svc, sink, { target: 'gateway', size: KiB, perFrame, sockets: 1, ack: 'window' }, 400);
      }
      const rows: Row[] = [];
      for (const cell of cells) {
        progress(`push: ${cellLabel(cell)}`);
        // The targets' cells get their own baseline right before them: other people's load on the
        // shared cores can change between the baselines at the start and a cell a minute later.
        const paired =
          cell.target === 'gateway' && cell.size === KiB ? await rawXadd(ctx.redis, KiB, 100, cellMs) : undefined;
        rows.push({ ...(await runCell(ctx, svc, sink, cell, cellMs)), paired });
      }
      return report(rows, baselines);
    });
  } finally {
    sink.child.kill();
  }
}

function report(rows: Row[], baselines: Baseline[]): PartResult {
  const base = new Map(baselines.map((b) => [b.size, b]));
  const sinkOf = (r: Row): Row | undefined => rows.find((s) => s.target === 'ws-sink' && sameShape(s, r));
  printTable(
    'Push baselines from the bench process, one connection, MAXLEN ~ 1000 as the service',
    ['baseline', 'size', 'entries/frame', 'entries/s', 'MB/s', ...CPU_HEADERS],
    baselines.flatMap((b) => {
      const batch = SIZES.find((s) => s.size === b.size)!.batch;
      const row = (name: string, per: string, m: Measured, cpu: CpuUse): string[] => [
        ...[name, sizeLabel(b.size), per, num(m.entriesPerSec), m.mbPerSec.toFixed(1)],
        ...cpuColumns(cpu, m.entriesPerSec),
      ];
      return [
        row('raw pipelined XADD', `${batch}/pipeline`, b.xadd, b.xaddCpu),
        row('raw XADD_BATCH script', `${batch}/call`, b.script, b.scriptCpu),
      ];
    }),
  );
  printTable(
    'Push throughput (WebSocket /data/{sid}/push; ws-sink = bare ws server in its own process, stores nothing)',
    [
      'target',
      'size',
      'entries/frame',
      'sockets',
      'ack',
      'entries/s',
      'MB/s',
      '× raw XADD',
      '× paired raw',
      '× script',
      '× ws-sink',
      ...CPU_HEADERS,
    ],
    rows.map((r) => [
      r.target,
      sizeLabel(r.size),
      String(r.perFrame),
      String(r.sockets),
      r.ack,
      r.entriesPerSec,
      r.mbPerSec.toFixed(1),
      ratio(r.entriesPerSec, base.get(r.size)?.xadd.entriesPerSec),
      ratio(r.entriesPerSec, r.paired?.entriesPerSec),
      r.perFrame > 1 ? ratio(r.entriesPerSec, base.get(r.size)?.script.entriesPerSec) : '-',
      r.target === 'gateway' ? ratio(r.entriesPerSec, sinkOf(r)?.entriesPerSec) : '-',
      ...cpuColumns(r.cpu, r.entriesPerSec),
    ]),
  );
  // Targets: the best 1 KiB cell by its ratio to the raw XADD measured just before it.
  const paired = (r: Row): number => r.entriesPerSec / r.paired!.entriesPerSec;
  const best = (batched: boolean): Row | undefined =>
    rows.filter((r) => r.paired && r.perFrame > 1 === batched).sort((a, b) => paired(b) - paired(a))[0];
  const verdict = (name: string, r: Row | undefined, min: number) =>
    r
      ? check(
          name,
          `${paired(r).toFixed(2)}× (${num(r.entriesPerSec)} vs ${num(r.paired!.entriesPerSec)}/s raw just before; best: ${r.sockets} socket(s), ack ${r.ack})`,
          paired(r) >= min,
        )
      : check(name, 'not run', null);
  const targets = [
    verdict('batched push 1 KiB ≥ 0.8× raw XADD', best(true), 0.8),
    verdict('single-entry push 1 KiB ≥ 0.5× raw XADD', best(false), 0.5),
  ];
  return {
    part: 'push',
    cells: [
      ...baselines,
      ...rows.map((r) => ({ ...r, ratioRawXadd: r.entriesPerSec / (base.get(r.size)?.xadd.entriesPerSec ?? NaN) })),
    ],
    targets,
    notes: [
      'ack window: up to 64 frames (about 4 MiB, at least 2) unacknowledged per socket.',
      '× paired raw: against raw XADD of 1 KiB measured just before the cell; the targets use it.',
      'ack off: timed until XINFO entries-added shows every sent entry stored (ws-sink: until a ping is answered).',
      "raw XADD: pipelines of 100 entries (10 for 1 MiB), 8 in flight; raw script: the service's XADD_BATCH, 8 calls in flight.",
    ],
  };
}
