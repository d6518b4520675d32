/**
 * A child process that holds many client sockets (readers for fan-out and latency, idle sockets),
 * so that the clients use neither the service's process nor the load generator's. Driven over IPC
 * by ClientWorkers.
 */
import WebSocket from 'ws';
import { closeAll, openMany, openSocket } from './sockets';
import { Histogram, wallMs } from './stats';

export type WorkerRequest =
  | { type: 'open'; url: string; token: string; n: number; entrySize: number }
  | { type: 'reset' }
  | { type: 'report' }
  | { type: 'close' };

export interface WorkerReport {
  delivered: number;
  frames: number;
  lastAt: number;
  sockets: number;
  hist: ReturnType<Histogram['toJSON']>;
}

let sockets: WebSocket[] = [];
let hist = new Histogram();
let delivered = 0;
let frames = 0;
let lastAt = 0;

/**
 * Pull messages carry entries of `entrySize` bytes whose first 8 bytes are the push time
 * (wallMs, float64 LE): blob length / entrySize entries, one latency sample each.
 */
function received(data: Buffer, isBinary: boolean, entrySize: number): void {
  frames++;
  if (!isBinary) return;
  const at = wallMs();
  const n = Math.max(1, Math.floor(data.length / entrySize));
  delivered += n;
  lastAt = at;
  if (entrySize >= 8) for (let i = 0; i < n; i++) hist.record(at - data.readDoubleLE(i * entrySize));
}

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.type) {
    case 'open': {
      const opened = await openMany(req.n, 50, () =>
        openSocket(req.url, req.token, (data, isBinary) => received(data, isBinary, req.entrySize)),
      );
      sockets = sockets.concat(opened);
      return { sockets: sockets.length };
    }
    case 'reset':
      hist = new Histogram();
      delivered = frames = lastAt = 0;
      return {};
    case 'report':
      return { delivered, frames, lastAt, sockets: sockets.length, hist: hist.toJSON() } satisfies WorkerReport;
    case 'close':
      await closeAll(sockets);
      sockets = [];
      return {};
  }
}

process.on('message', (msg: { id: number; req: WorkerRequest }) => {
  handle(msg.req).then(
    (reply) => process.send!({ id: msg.id, reply }),
    (err: Error) => process.send!({ id: msg.id, error: err.message }),
  );
});
