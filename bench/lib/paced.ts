import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { ServiceProcess } from './service';
import { openSocket } from './sockets';
import { now, progress, sleep, wallMs } from './stats';
import { ClientWorkers } from './workers';

/**
 * Pushes single-entry frames at a fixed rate for `ms`; each entry's first 8 bytes carry its send
 * time (wallMs, float64 LE) for the readers' latency. Resolves to the number of entries sent.
 */
export function pacedPush(ws: WebSocket, size: number, rate: number, ms: number): Promise<number> {
  const template = randomBytes(size);
  const total = Math.max(1, Math.round((rate * ms) / 1000));
  const t0 = now();
  let sent = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((now() - t0) * rate) / 1000) + 1);
      for (; sent < due; sent++) {
        const entry = Buffer.from(template);
        entry.writeDoubleLE(wallMs(), 0);
        ws.send(entry);
      }
      if (sent >= total) resolve(sent);
      else setTimeout(tick, 1);
    };
    tick();
  });
}

/** Waits until the readers got `expected` entries (or `timeoutMs` passed); returns what they got. */
export async function awaitDeliveries(workers: ClientWorkers, expected: number, timeoutMs: number) {
  const end = now() + timeoutMs;
  for (;;) {
    const report = await workers.report();
    if (report.delivered >= expected || now() > end) return report;
    await sleep(50);
  }
}

/** How long readers may take after the last push before what is missing counts as lost. */
const DRAIN_MS = 5000;

export interface PacedRun {
  sent: number;
  expected: number;
  delivered: number;
  /** Push start to last delivery, in seconds. A latency is ∞ when the entries of its rank never arrived. */
  seconds: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * One fixed-rate run on stream `sid`: `readers` pull sockets (count=1) in client workers, one push
 * socket in this process. A short warm-up at the same rate is not counted.
 */
export async function pacedRun(
  svc: ServiceProcess,
  workers: ClientWorkers,
  sid: string,
  opts: { size: number; rate: number; ms: number; readers: number },
): Promise<PacedRun> {
  const pusher = await openSocket(`${svc.ws}/data/${sid}/push`, svc.token);
  try {
    const warm = await pacedPush(pusher, opts.size, opts.rate, 300);
    await awaitDeliveries(workers, warm * opts.readers, 10_000);
    await workers.reset();
    const startedAt = wallMs();
    const sent = await pacedPush(pusher, opts.size, opts.rate, opts.ms);
    const expected = sent * opts.readers;
    const report = await awaitDeliveries(workers, expected, DRAIN_MS);
    if (report.delivered < expected) {
      progress(
        `  ${expected - report.delivered} of ${expected} deliveries had not arrived ${DRAIN_MS / 1000} s after the last push`,
      );
    }
    return {
      sent,
      expected,
      delivered: report.delivered,
      seconds: (report.lastAt - startedAt) / 1000,
      ...report.hist.summary(expected),
    };
  } finally {
    pusher.close();
  }
}
