import { Logger } from '@nestjs/common';
import { isRedisUnavailable } from '../common/http-error.filter';
import { Cursor } from '../redis/entry-id';
import { StreamEntry } from '../redis/redis-streams.service';
import { StreamReader } from '../streams/stream-reader';

/** What a feed reads from: a StreamReader, or a GlobSource that grows one as streams appear. */
export interface EntrySource {
  next(timeoutMs: number, signal: AbortSignal): Promise<StreamEntry[]>;
  close(): void;
}

const WAIT_MS = 5000;
const RETRY_MS = 1000;
const logger = new Logger('EntryFeed');

/**
 * A subscription's event stream: entries from a reader on the read hub, one at a time. `return()`
 * (the client completed, or the socket closed) aborts a pending wait and closes the reader at once.
 */
export class EntryFeed<T> implements AsyncIterableIterator<T> {
  private readonly abort = new AbortController();
  private batch: T[] = [];
  private index = 0;
  private done = false;

  constructor(
    private readonly source: EntrySource,
    private readonly map: (entry: StreamEntry) => T,
    /** False once the service is shutting down: the feed ends. */
    private readonly live: () => boolean,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    while (this.index >= this.batch.length) {
      if (this.done || !this.live()) return this.finish();
      let entries: StreamEntry[];
      try {
        entries = await this.source.next(WAIT_MS, this.abort.signal);
      } catch (err) {
        if (!isRedisUnavailable(err)) {
          this.finish();
          throw err;
        }
        logger.warn(`subscription read failed: ${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, RETRY_MS));
        continue;
      }
      if (this.done) return this.finish();
      this.batch = entries.map(this.map);
      this.index = 0;
    }
    return { done: false, value: this.batch[this.index++] };
  }

  async return(): Promise<IteratorResult<T>> {
    return this.finish();
  }

  async throw(err: unknown): Promise<IteratorResult<T>> {
    this.finish();
    throw err;
  }

  private finish(): IteratorResult<T> {
    if (!this.done) {
      this.done = true;
      this.abort.abort();
      this.source.close();
      this.batch = [];
    }
    return { done: true, value: undefined };
  }
}

/**
 * A reader over the streams a glob matches, including streams created later: every `rescanMs`
 * the glob is listed again and a reader over the old and new keys replaces the current one, old
 * keys keeping their cursors and new keys starting at their beginning.
 */
export class GlobSource implements EntrySource {
  private nextScan: number;
  private closed = false;

  constructor(
    private reader: StreamReader,
    private readonly scan: () => Promise<string[]>,
    private readonly reopen: (keys: string[], cursors: Cursor[]) => Promise<StreamReader>,
    private readonly rescanMs: number,
  ) {
    this.nextScan = Date.now() + rescanMs;
  }

  async next(timeoutMs: number, signal: AbortSignal): Promise<StreamEntry[]> {
    if (Date.now() >= this.nextScan) await this.rescan();
    const wait = Math.max(1, Math.min(timeoutMs, this.nextScan - Date.now()));
    return this.reader.next(wait, signal);
  }

  private async rescan(): Promise<void> {
    this.nextScan = Date.now() + this.rescanMs;
    const current = this.reader;
    const fresh = (await this.scan()).filter((key) => !current.keys.includes(key));
    if (fresh.length === 0 || this.closed) return;
    const cursors: Cursor[] = [
      ...current.cursors.map((id): Cursor => ({ kind: 'id', id })),
      ...fresh.map((): Cursor => ({ kind: 'start' })),
    ];
    const next = await this.reopen([...current.keys, ...fresh], cursors);
    if (this.closed) return next.close();
    this.reader = next;
    current.close();
  }

  close(): void {
    this.closed = true;
    this.reader.close();
  }
}
