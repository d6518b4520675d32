import { Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { RedisConnections } from './redis-connections';
import { LAST_IDS, XADD_BATCH } from './scripts';

/** One entry as read from a stream: the payload is field `d` (PROTOCOL §1), bytes untouched. */
export interface StreamEntry {
  key: string;
  id: string;
  data: Buffer;
}

/**
 * The payloads of `entries` back to back: a view, not a copy, where they already lie so in memory
 * (the entries of one XRANGE reply do), else a copy.
 */
export function joinPayloads(entries: readonly StreamEntry[]): Buffer {
  if (entries.length === 1) return entries[0].data;
  if (entries.length === 0) return Buffer.alloc(0);
  const first = entries[0].data;
  let next = first.byteOffset + first.length;
  let total = first.length;
  let adjacent = true;
  for (let i = 1; i < entries.length; i++) {
    const data = entries[i].data;
    if (data.buffer !== first.buffer || data.byteOffset !== next) adjacent = false;
    next = data.byteOffset + data.length;
    total += data.length;
  }
  if (adjacent) return Buffer.from(first.buffer, first.byteOffset, total);
  return Buffer.concat(
    entries.map((e) => e.data),
    total,
  );
}

export interface NewEntry {
  key: string;
  /** Explicit `ms-seq` id, or null for an id chosen by Redis. */
  id: string | null;
  data: Buffer;
}

/** Trimming applied with every write: MAXLEN ~ (0 = none) and MINID ~ (undefined = none). */
export interface TrimPolicy {
  maxlen: number;
  minId?: string;
}

export interface StreamInfo {
  length: number;
  radixTreeKeys: number;
  radixTreeNodes: number;
  groups: number;
  lastGeneratedId: string;
  maxDeletedEntryId: string | null;
  entriesAdded: number | null;
  recordedFirstEntryId: string | null;
  firstEntry: StreamEntry | null;
  lastEntry: StreamEntry | null;
}

type RawEntry = [Buffer, Buffer[]];
type RawRead = [Buffer, RawEntry[]][] | null;

/**
 * From this payload size a single entry goes as a plain XADD rather than in the batch script,
 * which copies each argument into Lua and back (3x Redis CPU per entry at 64 KiB).
 */
const PLAIN_XADD_MIN_BYTES = 32 * 1024;

interface ScriptedRedis extends Redis {
  xaddBatch(numKeys: number, ...args: (string | Buffer)[][]): Promise<(string | Error)[]>;
  lastIds(numKeys: number, ...keys: string[]): Promise<string[]>;
}

function payloadOf(fields: Buffer[]): Buffer {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i].length === 1 && fields[i][0] === 0x64 /* 'd' */) return fields[i + 1];
  }
  // Entries written by other tools: take the first value rather than drop the entry.
  return fields[1] ?? Buffer.alloc(0);
}

function toEntries(key: string, raw: RawEntry[]): StreamEntry[] {
  const out = new Array<StreamEntry>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    out[i] = { key, id: raw[i][0].toString('latin1'), data: payloadOf(raw[i][1]) };
  }
  return out;
}

/** The single owner of stream commands: nothing else in the service calls XADD or XREAD. */
@Injectable()
export class RedisStreamsService {
  private readonly redis: ScriptedRedis;
  /** Keys this process has written: known to exist, so a single entry may skip the checks. */
  private readonly written = new Set<string>();

  constructor(private readonly connections: RedisConnections) {
    this.redis = connections.command as ScriptedRedis;
    this.redis.defineCommand('xaddBatch', { lua: XADD_BATCH });
    this.redis.defineCommand('lastIds', { lua: LAST_IDS });
  }

  /** Stores entries atomically, all or none; resolves to their ids in order. */
  async add(entries: NewEntry[], trimFor: (key: string) => TrimPolicy): Promise<string[]> {
    const [result] = await this.addWrites([entries], trimFor);
    if (result instanceof Error) throw result;
    return result;
  }

  /**
   * Stores several writes, each all or none, in call order: resolves to each write's ids, or to
   * the error that refused it (its key is not a stream, an explicit id is too small, Redis refused
   * or did not answer the call that carried it) while the others are stored. A single auto-id
   * entry for a stream this process has written is a plain XADD (atomic by itself) when it is the
   * only write or its payload is large (the script would copy it twice); the other writes go in
   * runs, one checked batch script call each. All calls go out at once on the one connection.
   */
  async addWrites(writes: NewEntry[][], trimFor: (key: string) => TrimPolicy): Promise<(string[] | Error)[]> {
    const results = new Array<string[] | Error>(writes.length);
    const calls: Promise<void>[] = [];
    let start = 0;
    for (let w = 0; w <= writes.length; w++) {
      const e = writes[w]?.length === 1 ? writes[w][0] : null;
      const plain =
        e !== null &&
        e.id === null &&
        this.written.has(e.key) &&
        (writes.length === 1 || e.data.length >= PLAIN_XADD_MIN_BYTES);
      if (w < writes.length && !plain) continue;
      if (start < w) calls.push(this.addScripted(writes, start, w, trimFor, results));
      if (e && plain) {
        calls.push(
          this.xadd(e.key, e.data, trimFor(e.key)).then(
            (id) => void (results[w] = [id]),
            (err: Error) => void (results[w] = err),
          ),
        );
      }
      start = w + 1;
    }
    await Promise.all(calls);
    return results;
  }

  /** Writes `from` to `to` (exclusive) in one call of the batch script; their results into `results`. */
  private async addScripted(
    writes: NewEntry[][],
    from: number,
    to: number,
    trimFor: (key: string) => TrimPolicy,
    results: (string[] | Error)[],
  ): Promise<void> {
    const keys: string[] = [];
    const index = new Map<string, number>();
    const args: (string | Buffer)[] = [];
    for (let w = from; w < to; w++) {
      for (let i = 0; i < writes[w].length; i++) {
        const e = writes[w][i];
        let k = index.get(e.key);
        if (k === undefined) index.set(e.key, (k = keys.push(e.key)));
        // A negative key index starts the next write (XADD_BATCH).
        args.push(String(i === 0 && w > from ? -k : k), e.id ?? '*', e.data);
      }
    }
    const head: string[] = [...keys];
    for (const key of keys) {
      const trim = trimFor(key);
      head.push(String(trim.maxlen), trim.minId ?? '');
    }
    let reply: (string | Error)[];
    try {
      reply = await this.redis.xaddBatch(keys.length, head, args);
    } catch (err) {
      for (let w = from; w < to; w++) results[w] = err as Error;
      return;
    }
    if (this.written.size > 100_000) this.written.clear();
    let at = 0;
    for (let w = from; w < to; w++) {
      const first = reply[at];
      if (first instanceof Error) {
        results[w] = first;
        at += 1;
      } else {
        results[w] = reply.slice(at, (at += writes[w].length)) as string[];
        for (const e of writes[w]) this.written.add(e.key);
      }
    }
  }

  /** One XADD (with its MINID trim in the same transaction when the policy has one). */
  private async xadd(key: string, data: Buffer, trim: TrimPolicy): Promise<string> {
    const args: (string | Buffer | number)[] = [key];
    if (trim.maxlen > 0) args.push('MAXLEN', '~', trim.maxlen);
    args.push('*', 'd', data);
    if (trim.minId === undefined) return (await this.redis.call('XADD', ...args)) as string;
    const [[err, id]] = (await this.redis
      .multi()
      .call('XADD', ...args)
      .call('XTRIM', key, 'MINID', '~', trim.minId)
      .exec()) as [Error | null, unknown][];
    if (err) throw err;
    return id as string;
  }

  /** Forgets that keys exist (after DEL), so that their next write announces them again. */
  forget(keys: string[]): void {
    for (const key of keys) this.written.delete(key);
  }

  /** XREAD (optionally blocking: pass a dedicated connection) from exclusive ids. */
  async read(keys: string[], ids: string[], count: number, blockMs?: number, client?: Redis): Promise<StreamEntry[]> {
    const args: (string | number)[] = ['COUNT', count];
    if (blockMs !== undefined) args.push('BLOCK', blockMs);
    args.push('STREAMS', ...keys, ...ids);
    const reply = (await (client ?? this.redis).callBuffer('XREAD', ...args)) as RawRead;
    if (!reply) return [];
    const out: StreamEntry[] = [];
    for (const [key, raw] of reply) out.push(...toEntries(key.toString(), raw));
    return out;
  }

  /**
   * XRANGE, on the history connection; bounds may be exclusive (`(id`) as Redis 6.2+ allows. The
   * payloads of one reply lie back to back in shared buffers (`joinPayloads` sends them uncopied).
   */
  range(key: string, start: string, end: string, count?: number): Promise<StreamEntry[]> {
    return this.connections.history.xrange(key, start, end, count);
  }

  /** XREVRANGE: newest first, from `end` down to `start`. */
  async revRange(key: string, end: string, start: string, count?: number): Promise<StreamEntry[]> {
    const args: (string | number)[] = [key, end, start];
    if (count !== undefined) args.push('COUNT', count);
    return toEntries(key, (await this.redis.callBuffer('XREVRANGE', ...args)) as RawEntry[]);
  }

  /** The last generated id of each stream ('0-0' for one that does not exist): what `$` means. */
  async lastIds(keys: string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    return this.redis.lastIds(keys.length, ...keys);
  }

  /** XINFO STREAM for many keys in one round trip; null for a key that holds no stream. */
  async info(keys: string[]): Promise<(StreamInfo | null)[]> {
    if (keys.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const key of keys) pipe.callBuffer('XINFO', 'STREAM', key);
    const replies = (await pipe.exec()) ?? [];
    return replies.map(([err, reply], i) => (err ? null : parseInfo(keys[i], reply as unknown[])));
  }

  async length(key: string): Promise<number> {
    return this.redis.xlen(key);
  }

  async trim(key: string, policy: TrimPolicy): Promise<number> {
    const pipe = this.redis.pipeline();
    if (policy.maxlen > 0) pipe.xtrim(key, 'MAXLEN', '~', policy.maxlen);
    if (policy.minId !== undefined) pipe.xtrim(key, 'MINID', '~', policy.minId);
    const replies = (await pipe.exec()) ?? [];
    let removed = 0;
    for (const [err, n] of replies) {
      if (err) throw err;
      removed += n as number;
    }
    return removed;
  }

  async delete(keys: string[]): Promise<number> {
    this.forget(keys);
    return keys.length ? this.redis.del(...keys) : 0;
  }

  /** XGROUP CREATE ... MKSTREAM; false when the group already exists (BUSYGROUP). */
  async createGroup(key: string, group: string, startId: string): Promise<boolean> {
    try {
      await this.redis.xgroup('CREATE', key, group, startId, 'MKSTREAM');
      return true;
    } catch (err) {
      if ((err as Error).message.startsWith('BUSYGROUP')) return false;
      throw err;
    }
  }

  async destroyGroup(key: string, group: string): Promise<boolean> {
    return (await this.redis.xgroup('DESTROY', key, group)) === 1;
  }

  async setGroupId(key: string, group: string, id: string): Promise<void> {
    await this.redis.xgroup('SETID', key, group, id);
  }

  async deleteConsumer(key: string, group: string, consumer: string): Promise<number> {
    return Number(await this.redis.xgroup('DELCONSUMER', key, group, consumer));
  }

  /**
   * XREADGROUP for one consumer: `>` for new entries, or an id for its own pending ones (replay).
   * Blocking reads go on a dedicated connection.
   */
  async readGroup(
    group: string,
    consumer: string,
    keys: string[],
    ids: string[],
    count: number,
    options: {
      blockMs?: number;
      noAck?: boolean;
      client?: Redis;
      /** Told of pending entries that were deleted (trimmed) since their delivery. */
      onDeleted?: (key: string, ids: string[]) => void;
    } = {},
  ): Promise<StreamEntry[]> {
    const args: (string | number)[] = ['GROUP', group, consumer, 'COUNT', count];
    if (options.blockMs !== undefined) args.push('BLOCK', options.blockMs);
    if (options.noAck) args.push('NOACK');
    args.push('STREAMS', ...keys, ...ids);
    const reply = (await (options.client ?? this.redis).callBuffer('XREADGROUP', ...args)) as RawRead;
    if (!reply) return [];
    const out: StreamEntry[] = [];
    // Pending entries that were deleted since come back without fields: skip them.
    for (const [rawKey, raw] of reply) {
      const key = rawKey.toString();
      const deleted = raw.filter((e) => e[1] === null).map((e) => e[0].toString('latin1'));
      if (deleted.length > 0) options.onDeleted?.(key, deleted);
      out.push(
        ...toEntries(
          key,
          raw.filter((e) => e[1] !== null),
        ),
      );
    }
    return out;
  }

  /** XACK of each id in every key, pipelined; returns per id how many keys had it pending. */
  async ack(keys: string[], group: string, ids: string[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) for (const key of keys) pipe.xack(key, group, id);
    const replies = (await pipe.exec()) ?? [];
    return ids.map((_, i) => {
      let n = 0;
      for (let k = 0; k < keys.length; k++) {
        const [err, count] = replies[i * keys.length + k];
        if (err) throw err;
        n += Number(count);
      }
      return n;
    });
  }

  /** XPENDING extended form: the oldest `count` pending entries idle at least `minIdleMs`. */
  async pending(
    key: string,
    group: string,
    options: { minIdleMs?: number; count?: number; consumer?: string } = {},
  ): Promise<{ id: string; consumer: string; idleMs: number; deliveries: number }[]> {
    const args: (string | number)[] = [key, group];
    if (options.minIdleMs) args.push('IDLE', options.minIdleMs);
    args.push('-', '+', options.count ?? 100);
    if (options.consumer) args.push(options.consumer);
    const reply = (await this.redis.call('XPENDING', ...args)) as [string, string, number, number][];
    return reply.map(([id, consumer, idleMs, deliveries]) => ({ id, consumer, idleMs, deliveries }));
  }

  /** XCLAIM of given ids for `consumer`. */
  async claim(key: string, group: string, consumer: string, minIdleMs: number, ids: string[]): Promise<StreamEntry[]> {
    const reply = (await this.redis.callBuffer('XCLAIM', key, group, consumer, minIdleMs, ...ids)) as RawEntry[];
    return toEntries(
      key,
      reply.filter((e) => e[1] !== null),
    );
  }

  /**
   * Moves an entry to the dead-letter stream `deadKey` with its delivery history and acks it in
   * the group, atomically.
   */
  async deadLetter(
    key: string,
    deadKey: string,
    group: string,
    entry: StreamEntry,
    history: { consumer: string; deliveries: number },
  ): Promise<void> {
    const replies = await this.redis
      .multi()
      .xadd(
        deadKey,
        'MAXLEN',
        '~',
        10000,
        '*',
        'd',
        entry.data,
        'source_id',
        entry.id,
        'group',
        group,
        'consumer',
        history.consumer,
        'deliveries',
        String(history.deliveries),
      )
      .xack(key, group, entry.id)
      .exec();
    for (const [err] of replies ?? []) if (err) throw err;
  }

  /** XINFO GROUPS and XINFO CONSUMERS of every group, as plain objects. */
  async groups(key: string): Promise<Record<string, unknown>[]> {
    const groups = (await this.redis.xinfo('GROUPS', key)) as unknown[][];
    const pipe = this.redis.pipeline();
    const parsed = groups.map(pairs);
    for (const g of parsed) pipe.xinfo('CONSUMERS', key, String(g.name));
    const consumers = (await pipe.exec()) ?? [];
    return parsed.map((g, i) => ({ ...g, consumers: ((consumers[i][1] as unknown[][]) ?? []).map(pairs) }));
  }

  get client(): Redis {
    return this.connections.command;
  }
}

function pairs(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

function parseInfo(key: string, reply: unknown[]): StreamInfo {
  const f = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) f.set(String(reply[i]), reply[i + 1]);
  const str = (k: string): string | null => (f.get(k) == null ? null : String(f.get(k)));
  const num = (k: string): number | null => (f.get(k) == null ? null : Number(String(f.get(k))));
  const entry = (k: string): StreamEntry | null => {
    const e = f.get(k) as RawEntry | null | undefined;
    return e ? toEntries(key, [e])[0] : null;
  };
  return {
    length: num('length') ?? 0,
    radixTreeKeys: num('radix-tree-keys') ?? 0,
    radixTreeNodes: num('radix-tree-nodes') ?? 0,
    groups: num('groups') ?? 0,
    lastGeneratedId: str('last-generated-id') ?? '0-0',
    maxDeletedEntryId: str('max-deleted-entry-id'),
    entriesAdded: num('entries-added'),
    recordedFirstEntryId: str('recorded-first-entry-id'),
    firstEntry: entry('first-entry'),
    lastEntry: entry('last-entry'),
  };
}
