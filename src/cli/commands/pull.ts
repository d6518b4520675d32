import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Entry } from '../../client';
import { num, OptionSpec, text } from '../args';
import type { Command } from '../command';
import type { Context } from '../context';
import { explain } from '../explain';
import { jpegSize } from '../jpeg-frames';
import { entryJson, entryLine, Progress, summary } from '../output';

const PULL_OPTIONS: OptionSpec = {
  from: { type: 'string' },
  count: { type: 'string', short: 'n' },
  batch: { type: 'string' },
  latest: { type: 'boolean' },
  'max-fps': { type: 'string' },
};

const pullHelp = (
  from: string,
): string => `  --from ID          start after this: $ (only new), 0 (the start), an id, a ms or ISO time;
                     one per stream joined by + (default ${from})
  -n, --count N      stop after N entries
  --batch N          entries per stream per message (default 100, 1 with --latest)
  --latest           drop what a slow reader cannot keep up with (newest entries only)
  --max-fps F        at most F messages per second`;

/** Pulls `spec` (reconnecting and resuming), hands every entry to `onEntry`, and prints a summary. */
async function runPull(
  ctx: Context,
  spec: string,
  defaultFrom: string,
  onEntry: (e: Entry) => Promise<void> | void,
  progressWanted: boolean,
): Promise<void> {
  const v = ctx.values;
  const count = num(v, 'count', Infinity, { min: 1 });
  const puller = ctx.client().pullStream(spec, {
    deviceId: ctx.deviceId,
    lastEntryId: text(v, 'from', defaultFrom),
    count: num(v, 'batch', v.latest ? 1 : 100, { min: 1, max: 10_000 }),
    latest: v.latest === true,
    maxFps: num(v, 'max-fps', 0, { min: 0, max: 1000, fractional: true }),
    signal: ctx.signal,
    onRetry: (err, ms) => ctx.err(`${explain(err, ctx.url)}; reconnecting in ${(ms / 1000).toFixed(1)} s`),
  });
  const progress = new Progress(
    progressWanted && ctx.tty && !ctx.json,
    `pull ${spec}`,
    Number.isFinite(count) ? count : undefined,
  );
  const started = Date.now();
  let n = 0;
  let size = 0;
  try {
    for await (const e of puller) {
      await onEntry(e);
      size += e.data.length;
      progress.tick(1, e.data.length);
      if (++n >= count) break;
    }
  } finally {
    progress.stop();
  }
  ctx.err(summary('pulled', n, size, Date.now() - started, `from ${spec}`));
}

/** Prints entries as lines, or as JSON lines with `--json`. */
function printer(ctx: Context, withStream: boolean): (e: Entry) => void {
  return (e) => ctx.out(ctx.json ? JSON.stringify(entryJson(e)) : entryLine(e, withStream));
}

export const pull: Command = {
  name: 'pull',
  usage: '<stream_id | a+b | glob>',
  summary: 'print entries: id, time, size, and text or hex (follows the stream; Ctrl-C stops)',
  optionHelp: pullHelp('$'),
  options: PULL_OPTIONS,
  args: { min: 1, max: 1 },
  run: (ctx) => {
    const spec = ctx.positionals[0];
    // A progress bar would mix with the lines on a terminal: only when stdout goes elsewhere.
    return runPull(ctx, spec, '$', printer(ctx, /[+*]/.test(spec)), !process.stdout.isTTY);
  },
};

export const tail: Command = {
  name: 'tail',
  usage: '<stream_id...>',
  summary: 'follow several streams, one line per entry with its stream',
  optionHelp: pullHelp('$'),
  options: PULL_OPTIONS,
  args: { min: 1, max: Infinity },
  run: (ctx) => runPull(ctx, ctx.positionals.join('+'), '$', printer(ctx, true), !process.stdout.isTTY),
};

export const pullImage: Command = {
  name: 'pull-image',
  usage: '<stream_id | a+b>',
  summary: 'pull JPEG frames: print their size, or write them to --out DIR as <id>.jpg',
  optionHelp: `${pullHelp('$')}
  --out DIR          write each frame to DIR/<id>.<ext> (DIR/<stream>/<id>.<ext> for several streams)
  --ext EXT          file extension (default jpg)`,
  options: { ...PULL_OPTIONS, out: { type: 'string' }, ext: { type: 'string' } },
  args: { min: 1, max: 1 },
  run: async (ctx) => {
    const spec = ctx.positionals[0];
    const out = text(ctx.values, 'out');
    const ext = text(ctx.values, 'ext', 'jpg')!.replace(/^\./, '');
    const several = /[+*]/.test(spec);
    const onFrame = async (e: Entry): Promise<void> => {
      let file: string | null = null;
      if (out) {
        file = several ? join(out, e.streamId, `${e.id}.${ext}`) : join(out, `${e.id}.${ext}`);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, e.data);
      }
      const dims = jpegSize(e.data);
      if (ctx.json) {
        ctx.out(
          JSON.stringify({
            stream_id: e.streamId,
            id: e.id,
            time: new Date(e.time).toISOString(),
            size: e.data.length,
            ...dims,
            file,
          }),
        );
      } else if (!out) {
        const shape = dims ? `${dims.width}x${dims.height}` : 'not a JPEG';
        ctx.out(
          [...(several ? [e.streamId] : []), e.id, new Date(e.time).toISOString(), `${e.data.length} B`, shape].join(
            '  ',
          ),
        );
      }
    };
    await runPull(ctx, spec, '$', onFrame, out !== undefined || !process.stdout.isTTY);
  },
};
