import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { WorkerReport, WorkerRequest } from './client-worker';
import { Histogram } from './stats';

/** Client sockets spread over child processes (at most `perWorker` sockets each). */
export class ClientWorkers {
  private seq = 0;
  private readonly pending = new Map<number, { done: (v: unknown) => void; fail: (e: Error) => void }>();

  private constructor(private readonly children: ChildProcess[]) {
    for (const child of children) {
      child.on('message', (msg: { id: number; reply?: unknown; error?: string }) => {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.fail(new Error(msg.error));
        else p?.done(msg.reply);
      });
      child.once('exit', (code) => {
        for (const p of this.pending.values()) p.fail(new Error(`client worker exited (${code})`));
        this.pending.clear();
      });
    }
  }

  static start(sockets: number, perWorker = 2500): ClientWorkers {
    const n = Math.max(1, Math.ceil(sockets / perWorker));
    const script = join(__dirname, 'client-worker.js');
    return new ClientWorkers(Array.from({ length: n }, () => fork(script, [], { stdio: ['ignore', 2, 2, 'ipc'] })));
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid!);
  }

  private call<T>(child: ChildProcess, req: WorkerRequest): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((done, fail) => {
      this.pending.set(id, { done: done as (v: unknown) => void, fail });
      child.send({ id, req });
    });
  }

  private all<T>(req: WorkerRequest): Promise<T[]> {
    return Promise.all(this.children.map((c) => this.call<T>(c, req)));
  }

  /** Opens `n` sockets to `url`, spread evenly over the workers. */
  async open(url: string, token: string, n: number, entrySize = 0): Promise<void> {
    const k = this.children.length;
    await Promise.all(
      this.children.map((c, i) => {
        const share = Math.floor(n / k) + (i < n % k ? 1 : 0);
        return share ? this.call(c, { type: 'open', url, token, n: share, entrySize }) : Promise.resolve();
      }),
    );
  }

  async reset(): Promise<void> {
    await this.all({ type: 'reset' });
  }

  /** Deliveries and latencies summed over the workers since the last reset. */
  async report(): Promise<{ delivered: number; frames: number; lastAt: number; hist: Histogram }> {
    const reports = await this.all<WorkerReport>({ type: 'report' });
    const hist = new Histogram();
    for (const r of reports) hist.merge(r.hist);
    return {
      delivered: reports.reduce((a, r) => a + r.delivered, 0),
      frames: reports.reduce((a, r) => a + r.frames, 0),
      lastAt: Math.max(...reports.map((r) => r.lastAt)),
      hist,
    };
  }

  async stop(): Promise<void> {
    await this.all({ type: 'close' }).catch(() => undefined);
    for (const c of this.children) c.kill();
  }
}
