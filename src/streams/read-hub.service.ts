import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { compareIds } from '../redis/entry-id';
import { RedisConnections } from '../redis/redis-connections';
import { RedisStreamsService, StreamEntry } from '../redis/redis-streams.service';

/** Recent entries of one stream that has readers at its tail. */
interface Tail {
  /** Newest id the hub has seen (its XREAD cursor). */
  lastId: string;
  /** Every entry after `ringStart` up to `lastId`, oldest first. */
  ring: StreamEntry[];
  ringStart: string;
  /** Sequence number of `ring[0]`: entries ever appended minus those still in the ring. */
  base: number;
  /** Moves on restart(): replies to XREADs sent before it are not appended. */
  gen: number;
  /** What the ring holds: payload bytes plus ENTRY_COST per entry. */
  ringBytes: number;
  waiters: Set<() => void>;
  refs: number;
  idleSince: number;
}

const RING_ENTRIES = 2048;
const RING_BYTES = 16 * 1024 * 1024;
/**
 * All rings together, shared evenly by the followed streams: without it memory grew with the
 * number of streams (333 streams x 2048 entries in the soak, RELIABILITY.md §5).
 */
export const RING_BUDGET = 32 * 1024 * 1024;
/** Memory of a ring entry beyond its payload (entry, id, Buffer view, pinned reply chunk): ~280 B measured. */
export const ENTRY_COST = 320;
const READ_COUNT = 1000;
const BLOCK_MS = 5000;
const LINGER_MS = 30_000;
/** Read-ahead of readers catching up from Redis: a page of about this many bytes... */
const AHEAD_PAGE_BYTES = 1024 * 1024;
/** ...of at most this many entries... */
const AHEAD_MAX_ENTRIES = 1000;
/** ...while all readers of the process together hold less than this. */
const AHEAD_BUDGET_BYTES = 64 * 1024 * 1024;
const NOTHING = Object.freeze([]) as unknown as StreamEntry[];

/**
 * A reader's place in one followed stream's ring (the sequence number of the next entry it would
 * take), so that reading at the tail needs no search. Only a hint: checked against the cursor.
 */
export interface RingMark {
  seq: number;
}

/**
 * The per-process read hub: one loop on one dedicated blocking connection XREADs every stream
 * that has readers at its tail and keeps a short ring of recent entries per stream, so that any
 * number of readers are served from memory. Readers behind the ring page with XRANGE on their own.
 * Redis connections and reads stay constant in the number of readers.
 */
@Injectable()
export class ReadHub implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ReadHub.name);
  private readonly tails = new Map<string, Tail>();
  private readonly opening = new Map<string, Promise<Tail>>();
  private conn?: Redis;
  private connId?: number;
  private running = false;
  private loop?: Promise<void>;
  /** The key set changed since the current XREAD was sent. */
  private stale = false;
  private wake?: () => void;
  private sweeper?: NodeJS.Timeout;
  /** Bytes held in readers' read-ahead pages, payloads plus ENTRY_COST each (see `pageSize`). */
  private aheadBytes = 0;

  constructor(
    private readonly streams: RedisStreamsService,
    private readonly connections: RedisConnections,
  ) {}

  onModuleInit(): void {
    this.running = true;
    this.conn = this.connections.createBlocking('read-hub');
    this.conn.on('ready', () => {
      this.conn!.client('ID').then(
        (id) => (this.connId = Number(id)),
        () => undefined,
      );
    });
    this.loop = this.run();
    this.sweeper = setInterval(() => this.sweep(), LINGER_MS / 3).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    clearInterval(this.sweeper);
    this.wake?.();
    this.conn?.disconnect();
    await this.loop;
    for (const tail of this.tails.values()) this.notify(tail);
  }

  /** False once the service is shutting down: readers stop waiting. */
  get active(): boolean {
    return this.running;
  }

  /** Number of streams the hub is following (for metrics and tests). */
  get size(): number {
    return this.tails.size;
  }

  /** Bytes held by all rings, counted as RING_BUDGET counts them (for tests). */
  get ringBytes(): number {
    let total = 0;
    for (const tail of this.tails.values()) total += tail.ringBytes;
    return total;
  }

  /** Starts following `keys` (reference counted); returns once each has a known cursor. */
  async attach(keys: string[]): Promise<void> {
    const missing = keys.filter((k) => !this.tails.has(k));
    if (missing.length) {
      const fresh = missing.filter((k) => !this.opening.has(k));
      if (fresh.length) {
        const ids = this.streams.lastIds(fresh);
        fresh.forEach((key, i) => {
          const opened = ids.then((all) => this.open(key, all[i]));
          this.opening.set(key, opened);
          opened.finally(() => this.opening.delete(key)).catch(() => undefined);
        });
      }
      await Promise.all(missing.map((k) => this.opening.get(k)).filter((p) => p !== undefined));
    }
    for (const key of keys) {
      const tail = this.tails.get(key)!;
      tail.refs++;
    }
  }

  detach(keys: string[]): void {
    const now = Date.now();
    for (const key of keys) {
      const tail = this.tails.get(key);
      if (tail && --tail.refs === 0) tail.idleSince = now;
    }
  }

  private open(key: string, lastId: string): Tail {
    let tail = this.tails.get(key);
    if (!tail) {
      tail = {
        lastId,
        ring: [],
        ringStart: lastId,
        base: 0,
        gen: 0,
        ringBytes: 0,
        waiters: new Set(),
        refs: 0,
        idleSince: Date.now(),
      };
      this.tails.set(key, tail);
      this.kick();
    }
    return tail;
  }

  /**
   * After the stream was deleted here: follow it again from `0-0`, so that a stream created anew
   * under the key (possibly with lower explicit ids) is read, and `$` means its newest entry.
   * Readers' cursors stay where they are (they only move forward).
   */
  restart(key: string): void {
    const tail = this.tails.get(key);
    if (!tail) return;
    tail.base += tail.ring.length;
    tail.gen++;
    tail.ring = [];
    tail.ringBytes = 0;
    tail.lastId = tail.ringStart = '0-0';
    this.kick();
  }

  /** `$` for each key: the newest id known (the hub's cursor for followed streams, else Redis's). */
  async endIds(keys: string[]): Promise<string[]> {
    const unknown = keys.filter((k) => !this.tails.has(k));
    const fetched = unknown.length ? await this.streams.lastIds(unknown) : [];
    return keys.map((k) => this.tails.get(k)?.lastId ?? fetched[unknown.indexOf(k)]);
  }

  /** Up to `count` entries after `after`, oldest first: from the ring when it covers `after`. */
  async fetch(key: string, after: string, count: number): Promise<StreamEntry[]> {
    return this.fromRing(key, after, count, { seq: -1 }) ?? this.streams.range(key, `(${after}`, '+', count);
  }

  /** The newest id the hub has seen of a followed stream. */
  lastIdOf(key: string): string | undefined {
    return this.tails.get(key)?.lastId;
  }

  /** True when `after` is within (or past) the ring of a followed stream: `fromRing` can serve it. */
  inRing(key: string, after: string): boolean {
    const tail = this.tails.get(key);
    return tail !== undefined && compareIds(after, tail.ringStart) >= 0;
  }

  /**
   * Up to `count` entries after `after` from the ring, synchronously; null when the stream is not
   * followed or `after` is older than the ring (the caller reads Redis). `mark` is moved past the
   * entries returned.
   */
  fromRing(key: string, after: string, count: number, mark: RingMark): StreamEntry[] | null {
    const tail = this.tails.get(key);
    if (!tail) return null;
    const ring = tail.ring;
    let i = mark.seq - tail.base;
    const marked = i >= 0 && i <= ring.length && (i === 0 ? tail.ringStart : ring[i - 1].id) === after;
    if (!marked) {
      if (compareIds(after, tail.ringStart) < 0) return null;
      i = compareIds(after, tail.lastId) >= 0 ? ring.length : upperBound(ring, after);
    }
    const n = Math.min(count, ring.length - i);
    mark.seq = tail.base + i + Math.max(n, 0);
    if (n <= 0) return NOTHING;
    return n === 1 ? [ring[i]] : ring.slice(i, i + n);
  }

  /** The newest `count` entries after `after`, oldest first (frame dropping). */
  async latest(key: string, after: string, count: number): Promise<StreamEntry[]> {
    const tail = this.tails.get(key);
    if (tail) {
      if (compareIds(after, tail.lastId) >= 0) return [];
      const ring = tail.ring;
      if (ring.length >= count || (ring.length > 0 && compareIds(after, tail.ringStart) >= 0)) {
        const from = Math.max(upperBound(ring, after), ring.length - count);
        return ring.slice(from);
      }
    }
    return (await this.streams.revRange(key, '+', `(${after}`, count)).reverse();
  }

  /**
   * How many entries a reader that wants `count` should read from Redis when it is behind the
   * ring: about a megabyte's worth of entries of `entryBytes` (fewer round trips and socket writes
   * per entry), or just `count` once the process-wide read-ahead budget is spent.
   */
  pageSize(count: number, entryBytes: number): number {
    if (this.aheadBytes >= AHEAD_BUDGET_BYTES) return count;
    return Math.max(count, Math.min(AHEAD_MAX_ENTRIES, Math.floor(AHEAD_PAGE_BYTES / Math.max(entryBytes, 1))));
  }

  /** Bytes readers hold read ahead of what they handed out, process-wide (metrics and tests). */
  get readAheadBytes(): number {
    return this.aheadBytes;
  }

  /** Readers report the bytes they take into (+) and hand out of (−) their read-ahead. */
  holdAhead(bytes: number): void {
    this.aheadBytes += bytes;
  }

  /** True when any of `keys` has an entry after its cursor (or the hub stopped: stop waiting). */
  hasNewer(keys: string[], cursors: string[]): boolean {
    if (!this.running) return true;
    for (let i = 0; i < keys.length; i++) {
      const tail = this.tails.get(keys[i]);
      if (tail && tail.lastId !== cursors[i] && compareIds(tail.lastId, cursors[i]) > 0) return true;
    }
    return false;
  }

  /** Calls `wake` (once, then forgets it) when any of `keys` gets new entries or the hub stops. */
  watch(keys: string[], wake: () => void): void {
    for (const key of keys) this.tails.get(key)?.waiters.add(wake);
  }

  unwatch(keys: string[], wake: () => void): void {
    for (const key of keys) this.tails.get(key)?.waiters.delete(wake);
  }

  private notify(tail: Tail): void {
    if (tail.waiters.size === 0) return;
    const waiters = [...tail.waiters];
    tail.waiters.clear();
    for (const w of waiters) w();
  }

  /** Makes a blocked XREAD return so that the next one includes new keys. */
  private kick(): void {
    this.stale = true;
    this.wake?.();
    const unblock = (): void => {
      if (!this.stale || !this.running) return;
      if (this.connId !== undefined) this.connections.command.client('UNBLOCK', this.connId).catch(() => undefined);
      // The UNBLOCK may reach Redis before the XREAD it was meant for: repeat until the loop moved on.
      setTimeout(unblock, 25).unref();
    };
    unblock();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const keys = [...this.tails.keys()];
      this.stale = false;
      if (keys.length === 0) {
        await new Promise<void>((done) => (this.wake = done));
        this.wake = undefined;
        continue;
      }
      const sent = keys.map((k) => this.tails.get(k)!);
      const ids = sent.map((t) => t.lastId);
      const gens = new Map(keys.map((k, i) => [k, sent[i].gen]));
      let entries: StreamEntry[];
      try {
        entries = await this.streams.read(keys, ids, READ_COUNT, BLOCK_MS, this.conn);
        if (failures > 0) this.logger.log('read loop resumed');
        failures = 0;
      } catch (err) {
        if (!this.running) break;
        if (failures++ === 0) this.logger.warn(`read loop: ${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, Math.min(100 * failures, 2000)));
        continue;
      }
      this.append(entries, gens);
    }
  }

  /** Adds what an XREAD returned; `gens` are the tails' generations when it was sent. */
  private append(entries: StreamEntry[], gens: Map<string, number>): void {
    const touched = new Set<Tail>();
    for (const entry of entries) {
      const tail = this.tails.get(entry.key);
      if (!tail || tail.gen !== gens.get(entry.key) || compareIds(entry.id, tail.lastId) <= 0) continue;
      tail.ring.push(entry);
      tail.ringBytes += entry.data.length + ENTRY_COST;
      tail.lastId = entry.id;
      touched.add(tail);
    }
    const share = this.ringShare();
    for (const tail of touched) {
      trimRing(tail, share);
      this.notify(tail);
    }
  }

  /** What one ring may hold: an even share of RING_BUDGET, at most RING_BYTES. */
  private ringShare(): number {
    return Math.min(RING_BYTES, RING_BUDGET / Math.max(this.tails.size, 1));
  }

  /**
   * Stops following streams that have had no reader for a while, and trims every ring to its
   * share (a quiet stream's ring is otherwise trimmed only when it gets entries).
   */
  private sweep(): void {
    const cutoff = Date.now() - LINGER_MS;
    for (const [key, tail] of this.tails) {
      if (tail.refs === 0 && tail.idleSince < cutoff && tail.waiters.size === 0) this.tails.delete(key);
    }
    const share = this.ringShare();
    for (const tail of this.tails.values()) trimRing(tail, share);
  }
}

/** Drops a ring's oldest entries beyond RING_ENTRIES or `maxBytes` (the newest is always kept). */
function trimRing(tail: Tail, maxBytes: number): void {
  let drop = 0;
  while (tail.ring.length - drop > RING_ENTRIES || (tail.ringBytes > maxBytes && tail.ring.length - drop > 1)) {
    tail.ringBytes -= tail.ring[drop].data.length + ENTRY_COST;
    drop++;
  }
  if (drop > 0) {
    tail.ringStart = tail.ring[drop - 1].id;
    tail.ring = tail.ring.slice(drop);
    tail.base += drop;
  }
}

/** Index of the first entry with an id greater than `id` (entries sorted by id). */
function upperBound(entries: StreamEntry[], id: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareIds(entries[mid].id, id) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
