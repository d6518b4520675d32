import { compareIds, Cursor, cursorToExclusiveId } from '../redis/entry-id';
import { StreamEntry } from '../redis/redis-streams.service';
import { CREATED_EVENTS } from '../redis/scripts';
import { ENTRY_COST, ReadHub, RingMark } from './read-hub.service';

export interface ReaderOptions {
  /** Entries per stream per batch. */
  count: number;
  /** Frame dropping: only the newest `count` entries after the cursor. */
  latest: boolean;
  /**
   * Read history from Redis in pages larger than `count`, held until handed out (within the hub's
   * process-wide budget): for readers that stay open and catch up (WebSocket, SSE), not for
   * one-shot reads that would throw the rest away.
   */
  readAhead?: boolean;
}

/** For device-wide and glob readers: which newly created keys to follow. */
export interface Discovery {
  /** Cursor on the stream-creation events, taken before the initial listing. */
  after: string;
  accept: (key: string) => boolean;
}

/** One stream of a reader: its place in the hub's ring and the entries read ahead from Redis. */
class Lane {
  readonly mark: RingMark = { seq: -1 };
  /** Entries after the cursor read from Redis, handed out from `pos`. */
  ahead: StreamEntry[] = [];
  pos = 0;
  /** Memory held in `ahead`: payloads plus ENTRY_COST each (the hub's budget counts the same). */
  aheadBytes = 0;
  /** The last page read from Redis was full: more may follow it. */
  more = false;
  /** Mean payload size of the last page (sizes the next one; 0 = not known yet). */
  entryBytes = 0;
  /** The size of the last page asked for. */
  page = 0;
  loading: Promise<void> | null = null;
  failure: Error | null = null;

  get waiting(): number {
    return this.ahead.length - this.pos;
  }
}

/**
 * One reader's cursors over one or more streams, served by the read hub. Shared by every
 * transport (WebSocket pull, REST long-poll, SSE, GraphQL), so cursor rules live in one place:
 * cursors only move forward, by numeric id, to the last entry handed out. With `discovery`, streams
 * created after the reader opened join it (read from their first entry) as their creation is seen.
 *
 * A reader at the tail takes entries from the hub's ring synchronously (`takeNow`); a reader
 * behind it reads Redis with XRANGE, with `readAhead` in pages of about a megabyte, the next page
 * asked for while the current one is handed out.
 */
export class StreamReader {
  private attached: string[] = [];
  private discovery?: Discovery;
  private readonly lanes: Lane[];
  private closed = false;
  /** Ends the current wait (set while one is pending). */
  private wake?: () => void;
  private signal?: AbortSignal;

  private constructor(
    private readonly hub: ReadHub,
    readonly keys: string[],
    readonly cursors: string[],
    private readonly options: ReaderOptions,
  ) {
    this.lanes = keys.map(() => new Lane());
  }

  /** Resolves the cursors (`$` by Redis) and starts following the streams. */
  static async open(
    hub: ReadHub,
    keys: string[],
    cursors: Cursor[],
    options: ReaderOptions,
    discovery?: Discovery,
  ): Promise<StreamReader> {
    const exclusive = cursors.map(cursorToExclusiveId);
    const ends = exclusive.includes(null) ? await hub.endIds(keys.filter((_, i) => exclusive[i] === null)) : [];
    let e = 0;
    const resolved = exclusive.map((id) => id ?? ends[e++]);
    const reader = new StreamReader(hub, [...keys], resolved, options);
    const follow = discovery ? [...keys, CREATED_EVENTS] : keys;
    await hub.attach(follow);
    reader.attached = follow;
    reader.discovery = discovery;
    return reader;
  }

  /**
   * Entries that are in memory now (the ring or read-ahead), advancing the cursors; null when
   * there are none or the next batch needs Redis or stream discovery first: then use `next`.
   */
  takeNow(): StreamEntry[] | null {
    if (this.options.latest || this.closed || this.discoveryDue()) return null;
    if (this.lanes.length === 1 && !this.lanes[0].failure) {
      // One stream: take() itself says when Redis is needed (no partial batch to avoid).
      const got = this.take(0);
      return got !== null && got.length > 0 ? got : null;
    }
    for (let i = 0; i < this.lanes.length; i++) if (!this.inMemory(i)) return null;
    const out = this.collect();
    return out.length > 0 ? out : null;
  }

  /**
   * Entries available now (possibly none), advancing the cursors. Streams that need Redis are
   * read first, so that a batch holds what every stream has (SSE orders a batch by id).
   */
  async poll(): Promise<StreamEntry[]> {
    if (this.discovery) await this.discover(this.discovery);
    if (this.options.latest) return this.pollLatest();
    const loads: Promise<void>[] = [];
    for (let i = 0; i < this.lanes.length; i++) {
      if (this.inMemory(i)) continue;
      this.fill(i);
      const loading = this.lanes[i].loading;
      if (loading) loads.push(loading);
    }
    if (loads.length > 0) await Promise.all(loads);
    return this.collect();
  }

  /** The next non-empty batch, or an empty one when `timeoutMs` passes or `signal` aborts first. */
  async next(timeoutMs: number, signal?: AbortSignal): Promise<StreamEntry[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const batch = await this.poll();
      const left = deadline - Date.now();
      if (batch.length > 0 || left <= 0 || signal?.aborted || this.closed || !this.hub.active) return batch;
      await this.wait(left, signal);
    }
  }

  close(): void {
    this.closed = true;
    this.wake?.();
    for (const lane of this.lanes) this.drop(lane);
    this.hub.detach(this.attached);
    this.attached = [];
  }

  /** Stream `i` can be served without waiting for Redis (or has a failure to report). */
  private inMemory(i: number): boolean {
    const lane = this.lanes[i];
    if (lane.failure || lane.waiting > 0) return true;
    return !lane.loading && this.hub.inRing(this.keys[i], this.cursors[i]);
  }

  /**
   * Up to `count` entries of each stream that has them in memory. A failed Redis read is thrown
   * before any stream is taken from, so that a caller that retries loses nothing.
   */
  private collect(): StreamEntry[] {
    for (const lane of this.lanes) {
      if (lane.failure) {
        const err = lane.failure;
        lane.failure = null;
        throw err;
      }
    }
    if (this.keys.length === 1) return this.take(0) ?? [];
    const out: StreamEntry[] = [];
    for (let i = 0; i < this.keys.length; i++) {
      const got = this.take(i);
      if (got !== null) for (const e of got) out.push(e);
    }
    return out;
  }

  /** Entries of stream `i` after its cursor from the read-ahead or the ring; null if Redis is needed. */
  private take(i: number): StreamEntry[] | null {
    const lane = this.lanes[i];
    const { count } = this.options;
    let got: StreamEntry[] | null;
    if (lane.waiting > 0) {
      const end = Math.min(lane.pos + count, lane.ahead.length);
      got = lane.ahead.slice(lane.pos, end);
      lane.pos = end;
      let bytes = 0;
      for (const e of got) bytes += e.data.length + ENTRY_COST;
      lane.aheadBytes -= bytes;
      this.hub.holdAhead(-bytes);
      if (lane.waiting === 0) {
        lane.ahead = [];
        lane.pos = 0;
      }
    } else if (lane.loading) {
      return null;
    } else {
      got = this.hub.fromRing(this.keys[i], this.cursors[i], count, lane.mark);
      if (got === null) return null;
    }
    if (got.length > 0) this.cursors[i] = got[got.length - 1].id;
    // Ask for the next page while this one is handed out (readers that stay open only).
    if (this.options.readAhead && lane.more && !lane.loading && lane.waiting <= lane.page / 2) this.fill(i);
    return got;
  }

  /** Starts reading stream `i` from Redis after its cursor or its read-ahead. */
  private fill(i: number): void {
    const lane = this.lanes[i];
    if (lane.loading) return;
    const { count, readAhead } = this.options;
    const size = readAhead ? this.hub.pageSize(count, lane.entryBytes) : count;
    const fromCursor = lane.waiting === 0;
    const after = fromCursor ? this.cursors[i] : lane.ahead[lane.ahead.length - 1].id;
    // The newest id the hub knew before this read: if Redis has nothing after the cursor, what
    // lies between the two was deleted or trimmed, and the cursor moves past it (or the reader
    // would read the empty range again and again while the hub says there is more).
    const known = this.hub.lastIdOf(this.keys[i]);
    lane.page = size;
    lane.more = false;
    lane.loading = this.hub.fetch(this.keys[i], after, size).then(
      (entries) => {
        lane.loading = null;
        if (this.closed) return;
        if (entries.length === 0) {
          if (fromCursor && known !== undefined && compareIds(this.cursors[i], known) < 0) this.cursors[i] = known;
          return;
        }
        lane.more = entries.length === size;
        let payload = 0;
        for (const e of entries) payload += e.data.length;
        lane.entryBytes = payload / entries.length;
        const bytes = payload + entries.length * ENTRY_COST;
        lane.aheadBytes += bytes;
        this.hub.holdAhead(bytes);
        if (lane.waiting === 0) {
          lane.ahead = entries;
          lane.pos = 0;
        } else {
          for (const e of entries) lane.ahead.push(e);
        }
      },
      (err: unknown) => {
        lane.loading = null;
        lane.failure = err instanceof Error ? err : new Error(String(err));
      },
    );
  }

  private drop(lane: Lane): void {
    this.hub.holdAhead(-lane.aheadBytes);
    lane.aheadBytes = 0;
    lane.ahead = [];
    lane.pos = 0;
  }

  private async pollLatest(): Promise<StreamEntry[]> {
    const { count } = this.options;
    const parts = await Promise.all(this.keys.map((key, i) => this.hub.latest(key, this.cursors[i], count)));
    const out: StreamEntry[] = [];
    parts.forEach((entries, i) => {
      if (entries.length === 0) return;
      this.cursors[i] = entries[entries.length - 1].id;
      for (const e of entries) out.push(e);
    });
    return out;
  }

  private discoveryDue(): boolean {
    return this.discovery !== undefined && this.hub.hasNewer([CREATED_EVENTS], [this.discovery.after]);
  }

  private async discover(discovery: Discovery): Promise<void> {
    const events = await this.hub.fetch(CREATED_EVENTS, discovery.after, 1000);
    if (events.length === 0) return;
    discovery.after = events[events.length - 1].id;
    const fresh = [...new Set(events.map((e) => e.data.toString()))].filter(
      (key) => !this.keys.includes(key) && discovery.accept(key),
    );
    if (fresh.length === 0) return;
    await this.hub.attach(fresh);
    if (this.closed) {
      this.hub.detach(fresh);
      return;
    }
    for (const key of fresh) {
      this.keys.push(key);
      this.cursors.push('0-0');
      this.lanes.push(new Lane());
      this.attached.push(key);
    }
  }

  /** Resolves when a followed stream has entries after the cursors, `timeoutMs` passes, or on abort / close. */
  private wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const keys = this.discovery ? [...this.keys, CREATED_EVENTS] : this.keys;
    const cursors = this.discovery ? [...this.cursors, this.discovery.after] : this.cursors;
    if (this.hub.hasNewer(keys, cursors)) return Promise.resolve();
    if (signal && signal !== this.signal) {
      // One listener per signal for the reader's life, not one per wait.
      this.signal = signal;
      signal.addEventListener('abort', () => this.wake?.(), { once: true });
    }
    return new Promise((done) => {
      const finish = (): void => {
        if (timer) clearTimeout(timer);
        this.hub.unwatch(keys, finish);
        this.wake = undefined;
        done();
      };
      const timer = Number.isFinite(timeoutMs) ? setTimeout(finish, timeoutMs) : undefined;
      this.wake = finish;
      this.hub.watch(keys, finish);
    });
  }
}
