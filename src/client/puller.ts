import { compareIds } from '../redis/entry-id';
import { Connection, query, ReconnectOptions, streamPath } from './connection';
import { decodeMessage, Entry } from './entries';
import { StreamerError } from './errors';
import { ReconnectingSocket, RetryListener } from './reconnecting-socket';
import { getEntries } from './rest';

/** What `pullStream` reads and how. */
export interface PullOptions {
  deviceId?: string;
  /**
   * Start after this cursor: `$` (default: only new entries), `0` (from the start), an id, a ms or
   * ISO-8601 time; one for all streams or one per stream joined by `+`.
   */
  lastEntryId?: string;
  /** Entries per stream per message (1–10000; default 100, or 1 with `latest`). */
  count?: number;
  /** Frame dropping: each message carries only the newest `count` entries per stream. */
  latest?: boolean;
  /** At most this many messages per second (0 = no limit). */
  maxFps?: number;
  /** Entries buffered before the service is asked to wait (default 1000). */
  highWaterMark?: number;
  /** Reconnect after transient failures (default: yes, forever); `false` ends at the first one. */
  reconnect?: ReconnectOptions | false;
  /** Called before each reconnection attempt. */
  onRetry?: RetryListener;
  /** Stops the iteration when aborted. */
  signal?: AbortSignal;
}

type Waiter = { resolve: (r: IteratorResult<Entry>) => void; reject: (err: StreamerError) => void };

/**
 * Entries of one or more streams (`a+b`, or a glob such as `cam*`) as an async iterator, over a
 * WebSocket pull (PROTOCOL §4) with `ack=1`: the service sends the next message only when the
 * consumer has room, so a slow consumer holds the data back in Redis, not in memory.
 *
 * After a reconnection it resumes after the last id received per stream (cursors joined by `+`)
 * and skips anything at or below them: nothing is lost or repeated on named streams. A `$` start
 * is resolved to ids (one `GET /data`) before the first connection, so entries added while
 * disconnected are not skipped either. A glob resumes from the oldest cursor it has and skips
 * what it already delivered; a matching stream that delivered nothing before the drop is read
 * from that cursor on.
 */
export class Puller extends ReconnectingSocket implements AsyncIterableIterator<Entry> {
  /** Named streams, or null for a glob path. */
  private readonly names: string[] | null;
  private readonly starts: string[];
  private readonly cursors = new Map<string, string>();
  private readonly highWater: number;
  private buffer: Entry[] = [];
  private head = 0;
  private header: string | null = null;
  private ackOwed = false;
  private startsResolved = false;
  private ended = false;
  private failure?: StreamerError;
  private waiter?: Waiter;
  /** Entries delivered so far. */
  received = 0;

  constructor(
    conn: Connection,
    private readonly spec: string,
    private readonly options: PullOptions = {},
  ) {
    super(conn, options.reconnect ?? {}, options.onRetry);
    this.names = spec.includes('*') ? null : spec.split(/[+ ]/);
    const start = options.lastEntryId ?? '$';
    const parts = start.split(/[+ ]/);
    this.starts = this.names && parts.length === this.names.length ? parts : (this.names?.map(() => start) ?? [start]);
    this.highWater = Math.max(1, options.highWaterMark ?? 1000);
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
    this.connect();
  }

  /** Per stream, the id of the last entry delivered (or the start cursor), joined by `+`. */
  get cursor(): string {
    if (!this.names) return this.globCursor();
    return this.names.map((n, i) => this.cursors.get(n) ?? this.starts[i]).join('+');
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Entry>> {
    if (this.head < this.buffer.length) return Promise.resolve({ value: this.take(), done: false });
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** Ends the iteration (also what `break` in a `for await` does). */
  async return(): Promise<IteratorResult<Entry>> {
    this.close();
    return { value: undefined, done: true };
  }

  /** Closes the socket; buffered entries are dropped and the iterator is done. */
  close(): void {
    this.buffer = [];
    this.head = 0;
    this.finish();
    this.stop();
  }

  protected async url(): Promise<string> {
    if (!this.startsResolved) await this.resolveStarts();
    const q = query({
      last_entry_id: this.cursor,
      count: this.options.count ?? (this.options.latest ? 1 : 100),
      latest: this.options.latest,
      max_fps: this.options.maxFps || undefined,
      ack: true,
      device_id: this.options.deviceId,
    });
    return `${this.conn.ws}/data/${streamPath(this.spec)}/pull${q}`;
  }

  /** `$` becomes the ids it means now (REST answers them in `x-last-entry-id`). */
  private async resolveStarts(): Promise<void> {
    if (this.names && this.options.reconnect !== false && this.starts.includes('$')) {
      const { entries, cursor } = await getEntries(this.conn, this.spec, {
        lastEntryId: this.starts.join('+'),
        block: 0,
        deviceId: this.options.deviceId,
      });
      const ids = cursor.split('+');
      if (ids.length === this.names.length) this.starts.splice(0, this.starts.length, ...ids);
      // Entries that arrived between resolving `$` and reading are delivered, not skipped.
      this.deliver(entries);
    }
    this.startsResolved = true;
  }

  private globCursor(): string {
    let min: string | undefined;
    for (const id of this.cursors.values()) if (min === undefined || compareIds(id, min) < 0) min = id;
    return min ?? this.starts[0];
  }

  protected onOpen(): void {
    this.header = null;
    this.ackOwed = false;
  }

  protected onMessage(data: string | Uint8Array): void {
    if (typeof data === 'string') {
      this.header = data;
      return;
    }
    if (this.header === null) return this.fail(new StreamerError('pull: binary frame without a header'));
    let entries: Entry[];
    try {
      entries = decodeMessage(this.header, data);
    } catch (err) {
      return this.fail(new StreamerError(`pull: ${(err as Error).message}`));
    }
    this.header = null;
    const last = entries[entries.length - 1]?.id;
    this.deliver(entries);
    if (this.buffered() < this.highWater) this.socket?.send(last ?? '');
    else this.ackOwed = true;
  }

  protected onDown(): void {
    this.header = null;
  }

  protected onEnd(err: StreamerError | null): void {
    if (err && err.closeCode !== 1000) this.fail(err);
    else this.finish();
  }

  private deliver(entries: Entry[]): void {
    if (this.ended) return;
    for (const e of entries) {
      const seen = this.cursors.get(e.streamId);
      if (seen !== undefined && compareIds(e.id, seen) <= 0) continue;
      this.cursors.set(e.streamId, e.id);
      this.buffer.push(e);
      this.received++;
    }
    if (this.waiter && this.head < this.buffer.length) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: this.take(), done: false });
    }
  }

  private buffered(): number {
    return this.buffer.length - this.head;
  }

  private take(): Entry {
    const e = this.buffer[this.head++];
    if (this.head === this.buffer.length) {
      this.buffer = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    if (this.ackOwed && this.connected && this.buffered() <= this.highWater / 2) {
      this.ackOwed = false;
      this.socket?.send(e.id);
    }
    return e;
  }

  private finish(): void {
    this.ended = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve({ value: undefined, done: true });
  }

  private fail(err: StreamerError): void {
    this.failure ??= err;
    this.ended = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.failure);
    this.stop();
  }
}
