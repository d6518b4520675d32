import { Presets, SingleBar } from 'cli-progress';
import type { Entry } from '../client';

const PREVIEW_CHARS = 60;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Control characters other than tab, LF and CR: such text is shown as hex. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}

/** A payload as printable text (escaped, cut to 60 characters), or the hex of its first bytes. */
export function preview(data: Uint8Array): string {
  let s: string | undefined;
  try {
    s = utf8.decode(data);
  } catch {
    s = undefined;
  }
  if (s !== undefined && !hasControl(s)) {
    const escaped = JSON.stringify(s).slice(1, -1);
    return escaped.length > PREVIEW_CHARS ? `${escaped.slice(0, PREVIEW_CHARS)}…` : escaped;
  }
  const hex = Buffer.from(data.subarray(0, 16))
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
  return `hex ${hex}${data.length > 16 ? ' …' : ''}`;
}

/** An entry as JSON for `--json`: text data when it is UTF-8, else base64 with `"encoding": "base64"`. */
export function entryJson(e: Entry): Record<string, unknown> {
  const base = { stream_id: e.streamId, id: e.id, time: new Date(e.time).toISOString(), size: e.data.length };
  try {
    return { ...base, data: utf8.decode(e.data) };
  } catch {
    return { ...base, data: Buffer.from(e.data).toString('base64'), encoding: 'base64' };
  }
}

/** One line per entry: [stream] id, time, size, text or hex. */
export function entryLine(e: Entry, withStream: boolean): string {
  const cells = [e.id, new Date(e.time).toISOString(), `${e.data.length} B`, preview(e.data)];
  return (withStream ? [e.streamId, ...cells] : cells).join('  ');
}

/** Rows as a left-aligned text table with a header. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

/** Bytes in B/kB/MB/GB (powers of 1000, as rates usually are). */
export function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

/** "N entries (size) in T s, R/s": the summary of a push or pull. */
export function summary(verb: string, entries: number, size: number, ms: number, where: string): string {
  const s = Math.max(ms, 1) / 1000;
  const n = `${entries} ${entries === 1 ? 'entry' : 'entries'}`;
  return `${verb} ${n} (${bytes(size)}) ${where} in ${s.toFixed(2)} s: ${Math.round(entries / s)} entries/s, ${bytes(size / s)}/s`;
}

/**
 * A progress bar (known total) or a running count with rates, drawn on stderr only when it is a
 * terminal and the output is not JSON; otherwise it does nothing.
 */
export class Progress {
  private bar?: SingleBar;
  private readonly started = Date.now();
  private count = 0;
  private size = 0;

  constructor(enabled: boolean, label: string, total?: number) {
    if (!enabled) return;
    const counter = total ? '{bar} {percentage}% {value}/{total}' : '{value} entries';
    this.bar = new SingleBar(
      { format: `${label} ${counter} | {rate} entries/s | {mb}`, hideCursor: true, stream: process.stderr, fps: 10 },
      Presets.shades_classic,
    );
    this.bar.start(total ?? 0, 0, { rate: 0, mb: '0 B' });
  }

  /** Counts `n` more entries of `size` bytes in all. */
  tick(n: number, size: number): void {
    this.count += n;
    this.size += size;
    if (!this.bar) return;
    const s = Math.max(Date.now() - this.started, 1) / 1000;
    this.bar.update(this.count, {
      rate: Math.round(this.count / s),
      mb: `${bytes(this.size)} (${bytes(this.size / s)}/s)`,
    });
  }

  stop(): void {
    this.bar?.stop();
  }
}
