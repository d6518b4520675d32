import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Payload } from '../../client';
import { num, OptionSpec, text, UsageError } from '../args';
import { Command, Pacer, readAll } from '../command';
import type { Context } from '../context';
import { explain } from '../explain';
import { noiseJpeg, parseShape, Shape } from '../jpeg-frames';
import { Progress, summary } from '../output';

const PUSH_OPTIONS: OptionSpec = {
  batch: { type: 'string' },
  rate: { type: 'string' },
  count: { type: 'string', short: 'n' },
  ack: { type: 'boolean' },
  'no-ack': { type: 'boolean' },
};

const pushHelp = (
  batch: number,
  rate: string,
): string => `  --batch N          entries per batch (default ${batch}); batches also leave after 10 ms
  --rate R           entries per second at most (default ${rate}; 0 = as fast as possible)
  -n, --count N      stop after N entries
  --ack / --no-ack   wait for the service's ack of every batch (default on): only unacked
                     batches are resent after a reconnection`;

interface PushPlan {
  ctx: Context;
  streamId: string;
  /** What to push, in order; stops early at --count or Ctrl-C. */
  source: AsyncIterable<Payload> | Iterable<Payload>;
  total?: number;
  defaultBatch: number;
  defaultRate: number;
}

/** Pushes `source` through one pusher, with pacing, progress, retry notices and a summary. */
async function runPush(plan: PushPlan): Promise<void> {
  const { ctx, streamId } = plan;
  const v = ctx.values;
  if (v.ack && v['no-ack']) throw new UsageError('--ack and --no-ack contradict each other');
  const count = num(v, 'count', plan.total ?? Infinity, { min: 1 });
  const pacer = new Pacer(num(v, 'rate', plan.defaultRate, { min: 0, fractional: true }));
  const batchEntries = num(v, 'batch', plan.defaultBatch, { min: 1, max: 100_000 });
  const ids: string[] = [];
  const pusher = ctx.client().pushStream(streamId, {
    deviceId: ctx.deviceId,
    ack: !v['no-ack'],
    batchEntries,
    onAck: (batch) => {
      if (ids.length === 0) ids.push(batch[0]);
      ids[1] = batch[batch.length - 1];
    },
    onRetry: (err, ms) => ctx.err(`${explain(err, ctx.url)}; reconnecting in ${(ms / 1000).toFixed(1)} s`),
  });
  const progress = new Progress(ctx.tty && !ctx.json, `push ${streamId}`, Number.isFinite(count) ? count : undefined);
  const started = Date.now();
  let pushed = 0;
  try {
    for await (const data of plan.source) {
      await pacer.next(ctx.signal);
      if (ctx.signal.aborted) break;
      await pusher.push(data);
      progress.tick(1, typeof data === 'string' ? Buffer.byteLength(data) : data.length);
      if (++pushed >= count) break;
    }
    await pusher.close();
  } finally {
    progress.stop();
  }
  const { bytes } = pusher.stats;
  const ms = Date.now() - started;
  if (ctx.json) {
    ctx.out(
      JSON.stringify({
        stream_id: streamId,
        entries: pushed,
        bytes,
        ms,
        first_id: ids[0] ?? null,
        last_id: ids[1] ?? null,
      }),
    );
  } else {
    ctx.err(summary('pushed', pushed, bytes, ms, `to ${streamId}`));
  }
}

async function* stdinLines(signal: AbortSignal): AsyncGenerator<string> {
  // Ctrl-C ends the input like an end of file: what was read is still pushed.
  signal.addEventListener('abort', () => process.stdin.destroy(), { once: true });
  yield* createInterface({ input: process.stdin, crlfDelay: Infinity });
}

/** Each file one entry; `-` is all of stdin. */
async function* files(paths: string[]): AsyncGenerator<Uint8Array> {
  for (const p of paths) yield p === '-' ? await readAll(process.stdin) : await readFile(p);
}

function* counter(start: number): Generator<string> {
  for (let i = start; ; i++) yield String(i);
}

export const push: Command = {
  name: 'push',
  usage: '<stream_id> [file...]',
  summary: 'push each file as one entry (`-` = all of stdin), or else each line of stdin',
  optionHelp: pushHelp(1000, '0'),
  options: PUSH_OPTIONS,
  args: { min: 1, max: Infinity },
  run: (ctx) => {
    const [streamId, ...paths] = ctx.positionals;
    const source = paths.length > 0 ? files(paths) : stdinLines(ctx.signal);
    return runPush({ ctx, streamId, source, total: paths.length || undefined, defaultBatch: 1000, defaultRate: 0 });
  },
};

export const pushIncrement: Command = {
  name: 'push-increment',
  usage: '<stream_id>',
  summary: 'push 0, 1, 2, ... as text (until --count or Ctrl-C)',
  optionHelp: `${pushHelp(100, '10')}\n  --start K          first value (default 0)`,
  options: { ...PUSH_OPTIONS, start: { type: 'string' } },
  args: { min: 1, max: 1 },
  run: (ctx) =>
    runPush({
      ctx,
      streamId: ctx.positionals[0],
      source: counter(num(ctx.values, 'start', 0, { min: 0 })),
      defaultBatch: 100,
      defaultRate: 10,
    }),
};

/** Distinct noise frames encoded up front and cycled: pure-JS JPEG encoding is slower than most --fps. */
function* imageFrames(shape: Shape, quality: number, poolSize: number): Generator<Buffer> {
  const pool = Array.from({ length: poolSize }, () => noiseJpeg(shape, quality));
  for (let i = 0; ; i++) yield pool[i % pool.length];
}

export const pushImage: Command = {
  name: 'push-image',
  usage: '<stream_id>',
  summary: 'push random-noise JPEG frames at --fps (until --count or Ctrl-C)',
  optionHelp: `  --shape H,W[,3]    frame size, grey or RGB (default 480,640,3)
  --fps F            frames per second (default 30; 0 = as fast as possible)
  --quality Q        JPEG quality 1-100 (default 80)
  --pool N           distinct frames encoded up front and cycled (default 8)
  -n, --count N      stop after N frames
  --batch N          frames per batch (default 1)
  --ack / --no-ack   as for push (default on)`,
  options: {
    ...PUSH_OPTIONS,
    shape: { type: 'string' },
    fps: { type: 'string' },
    quality: { type: 'string' },
    pool: { type: 'string' },
  },
  args: { min: 1, max: 1 },
  run: (ctx) => {
    if (ctx.values.rate !== undefined) throw new UsageError('push-image takes --fps, not --rate');
    const v = ctx.values;
    const fps = num(v, 'fps', 30, { min: 0, max: 10_000, fractional: true });
    const shape = parseShape(text(v, 'shape', '480,640,3')!);
    const source = imageFrames(
      shape,
      num(v, 'quality', 80, { min: 1, max: 100 }),
      num(v, 'pool', 8, { min: 1, max: 1000 }),
    );
    return runPush({ ctx, streamId: ctx.positionals[0], source, defaultBatch: 1, defaultRate: fps });
  },
};
