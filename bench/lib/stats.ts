import { performance } from 'node:perf_hooks';

/** Monotonic milliseconds, for durations inside one process. */
export const now = (): number => performance.now();

/**
 * Wall-clock milliseconds with sub-millisecond resolution, comparable between processes on one
 * machine (each process's time origin is read from the same realtime clock).
 */
export const wallMs = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it holds; throws after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 5): Promise<void> {
  const end = now() + timeoutMs;
  while (!(await check())) {
    if (now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

// Log-scale buckets 1% wide from 1 µs up: a percentile is exact to within 1%.
const GROWTH = Math.log(1.01);

export interface HistogramData {
  n: number;
  max: number;
  buckets: [number, number][];
}

/** A latency histogram (milliseconds) that merges across processes. */
export class Histogram {
  private readonly counts = new Map<number, number>();
  n = 0;
  max = 0;

  record(ms: number): void {
    const us = Math.max(1, ms * 1000);
    const i = Math.floor(Math.log(us) / GROWTH);
    this.counts.set(i, (this.counts.get(i) ?? 0) + 1);
    this.n++;
    if (ms > this.max) this.max = ms;
  }

  /**
   * The value below which `p` percent of the samples lie (bucket upper bound, capped at max).
   * With `total` > n, the missing samples count as infinitely late (entries that never arrived).
   */
  percentile(p: number, total = this.n): number {
    if (total === 0) return NaN;
    const rank = Math.ceil((p / 100) * total);
    if (rank > this.n) return Infinity;
    let seen = 0;
    for (const i of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(i)!;
      if (seen >= rank) return Math.min(this.max, Math.exp((i + 1) * GROWTH) / 1000);
    }
    return this.max;
  }

  toJSON(): HistogramData {
    return { n: this.n, max: this.max, buckets: [...this.counts] };
  }

  merge(data: HistogramData): this {
    for (const [i, c] of data.buckets) this.counts.set(i, (this.counts.get(i) ?? 0) + c);
    this.n += data.n;
    this.max = Math.max(this.max, data.max);
    return this;
  }

  summary(total = this.n): { n: number; p50: number; p99: number; max: number } {
    const max = total > this.n ? Infinity : this.max;
    return { n: this.n, p50: this.percentile(50, total), p99: this.percentile(99, total), max };
  }
}

export const KiB = 1024;
export const MiB = 1024 * 1024;

export function sizeLabel(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

/** 123456.7 → "123,457"; small numbers keep `digits` decimals. */
export function num(n: number | undefined | null, digits = 0): string {
  if (n === undefined || n === null || Number.isNaN(n)) return '-';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Milliseconds for a table; ∞ = some entries never arrived (see the lost column). */
export const ms = (n: number): string =>
  Number.isNaN(n) ? '-' : n === Infinity ? '∞' : n < 10 ? n.toFixed(2) : n.toFixed(1);
export const ratio = (a: number, b: number | undefined): string => (b ? `${(a / b).toFixed(2)}×` : '-');

/** Prints an aligned table on stdout. */
export function printTable(title: string, columns: string[], rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? num(c) : c)));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [`\n## ${title}`, line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Progress goes to stderr so that stdout holds only the tables. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
