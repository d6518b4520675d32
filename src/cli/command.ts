import type { OptionSpec } from './args';
import type { Context } from './context';

/** One `redis-streamer <name>` command. */
export interface Command {
  name: string;
  /** Arguments after the name, e.g. `<stream_id> [file...]`. */
  usage: string;
  summary: string;
  /** Lines describing the command's own options. */
  optionHelp?: string;
  options?: OptionSpec;
  args: { min: number; max: number };
  run(ctx: Context): Promise<void>;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Paces a loop at `perSecond` iterations per second (0 = no pacing), without drift. */
export class Pacer {
  private started?: number;
  private n = 0;

  constructor(private readonly perSecond: number) {}

  /** Waits until the next iteration is due. */
  async next(signal: AbortSignal): Promise<void> {
    if (this.perSecond <= 0) return;
    this.started ??= Date.now();
    const due = this.started + (this.n++ * 1000) / this.perSecond;
    await sleep(due - Date.now(), signal);
  }
}

/** Everything a readable stream (stdin) gives until its end. */
export async function readAll(input: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
