import { Injectable, Logger } from '@nestjs/common';
import { AuthUser } from '../auth/auth-user';
import { PermissionsService } from '../auth/permissions.service';
import { MetricsService } from '../health/metrics.service';
import { NewEntry, RedisStreamsService, TrimPolicy } from '../redis/redis-streams.service';
import { StreamError } from './stream-error';
import { StreamKeys } from './stream-keys.service';
import { StreamMetaService } from './stream-meta.service';

export interface EntryToWrite {
  streamId: string;
  /** Explicit `ms-seq` id or null for one chosen by Redis. */
  id: string | null;
  data: Buffer;
}

/** Told once how a write ended: stored (with its ids, in entry order) or refused. */
export interface WriteDone {
  stored(ids: string[]): void;
  failed(err: unknown): void;
}

/** One write waiting in the group that is sent to Redis at the end of the event-loop turn. */
interface Pending {
  batch: NewEntry[];
  /** The distinct keys of `batch`. */
  keys: string[];
  bytes: number;
  transport: string;
  done: WriteDone;
}

/** A group this large is sent at once rather than at the end of the turn. */
const GROUP_MAX_ENTRIES = 1000;
const GROUP_MAX_BYTES = 4 * 1024 * 1024;

/** The one write path of every transport: permission per stream, retention, one atomic write. */
@Injectable()
export class StreamWriter {
  /**
   * Writes waiting for retention settings, in call order, with every write issued after them
   * (so that none overtakes another); they join the group as soon as the settings are cached.
   */
  private blocked: Pending[] = [];
  /** Keys whose retention settings are being fetched. */
  private fetching = new Set<string>();
  /** Writes issued in this event-loop turn, sent together as one Redis call (group commit). */
  private group: Pending[] = [];
  /** Retention of the group's keys, as fetched or cached when its writes joined. */
  private groupPolicies = new Map<string, TrimPolicy>();
  private groupEntries = 0;
  private groupBytes = 0;
  private flushScheduled = false;

  constructor(
    private readonly streams: RedisStreamsService,
    private readonly keys: StreamKeys,
    private readonly meta: StreamMetaService,
    private readonly permissions: PermissionsService,
    private readonly metrics: MetricsService,
  ) {}

  /** The data keys of `streamIds`, or a FORBIDDEN error naming the first one not writable. */
  writableKeys(user: AuthUser, device: string, streamIds: string[]): string[] {
    return streamIds.map((sid) => this.writableKey(user, device, sid));
  }

  private writableKey(user: AuthUser, device: string, streamId: string): string {
    const key = this.keys.key(device, streamId);
    if (!this.permissions.canWrite(user, key))
      throw new StreamError('FORBIDDEN', `no write permission for stream ${streamId}`);
    return key;
  }

  /**
   * Stores all entries or none; resolves to their ids in order. Writes reach Redis in call order
   * (so one socket's batches get increasing ids and in-order acks) without waiting for each
   * other's replies: the writes of one event-loop turn go as one call, in which each is checked
   * and stored on its own (a refused write does not fail the others); when retention settings
   * must be fetched, later writes wait behind that.
   */
  write(user: AuthUser, device: string, entries: EntryToWrite[], transport: string): Promise<string[]> {
    return new Promise((stored, failed) => this.submit(user, device, entries, transport, { stored, failed }));
  }

  /** `write` for callers that keep their own record of each write: `done` is told how it ended. */
  submit(user: AuthUser, device: string, entries: EntryToWrite[], transport: string, done: WriteDone): void {
    if (entries.length === 0) return done.stored([]);
    let batch: NewEntry[];
    let keys: string[];
    try {
      if (entries.length === 1) {
        const { streamId, id, data } = entries[0];
        keys = [this.writableKey(user, device, streamId)];
        batch = [{ key: keys[0], id, data }];
      } else {
        const keyOf = new Map<string, string>();
        for (const e of entries) {
          if (!keyOf.has(e.streamId)) keyOf.set(e.streamId, this.writableKey(user, device, e.streamId));
        }
        keys = [...keyOf.values()];
        batch = entries.map((e) => ({ key: keyOf.get(e.streamId)!, id: e.id, data: e.data }));
      }
    } catch (err) {
      return done.failed(err);
    }
    let bytes = 0;
    for (const e of batch) bytes += e.data.length;
    const write: Pending = { batch, keys, bytes, transport, done };
    if (this.blocked.length === 0) {
      if (this.hasPolicies(keys)) return this.join(write, null);
      const cached = this.meta.cachedPolicies(keys);
      if (cached) return this.join(write, cached);
    }
    this.blocked.push(write);
    // Fetched now, alongside the fetch it waits for, rather than after it.
    if (!this.hasPolicies(keys) && !this.meta.cachedPolicies(keys)) this.fetch(keys);
  }

  /**
   * Fetches the retention settings of those `keys` that are neither cached nor being fetched, then
   * lets blocked writes go. With none such, a fetch already under way will call unblock() (fetching
   * cached keys again would resolve at once and loop through unblock() without end).
   */
  private fetch(keys: string[]): void {
    const missing = keys.filter((key) => !this.fetching.has(key) && !this.meta.cachedPolicies([key]));
    if (missing.length === 0) return;
    for (const key of missing) this.fetching.add(key);
    this.meta.trimPolicies(missing).then(
      () => {
        for (const key of missing) this.fetching.delete(key);
        this.unblock();
      },
      (err) => {
        for (const key of missing) this.fetching.delete(key);
        const failed = this.blocked.filter((w) => w.keys.some((key) => missing.includes(key)));
        this.blocked = this.blocked.filter((w) => !failed.includes(w));
        for (const w of failed) tell(w.done, err);
        this.unblock();
      },
    );
  }

  /** Moves blocked writes into the group, in order, up to the first whose settings are not cached. */
  private unblock(): void {
    const blocked = this.blocked;
    let n = 0;
    for (; n < blocked.length; n++) {
      const write = blocked[n];
      if (this.hasPolicies(write.keys)) this.join(write, null);
      else {
        const cached = this.meta.cachedPolicies(write.keys);
        if (!cached) break;
        this.join(write, cached);
      }
    }
    blocked.splice(0, n);
    if (blocked.length > 0) this.fetch(blocked[0].keys);
  }

  /** True when the group already holds the retention of every key (fetched in this turn). */
  private hasPolicies(keys: string[]): boolean {
    for (const key of keys) if (!this.groupPolicies.has(key)) return false;
    return true;
  }

  private join(write: Pending, policies: Map<string, TrimPolicy> | null): void {
    if (policies) for (const [key, policy] of policies) this.groupPolicies.set(key, policy);
    this.group.push(write);
    this.groupEntries += write.batch.length;
    this.groupBytes += write.bytes;
    if (this.groupEntries >= GROUP_MAX_ENTRIES || this.groupBytes >= GROUP_MAX_BYTES) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /** Sends the group as one call; each write settles with its own ids or error. */
  private flush(): void {
    const group = this.group;
    if (group.length === 0) return;
    const policies = this.groupPolicies;
    this.group = [];
    this.groupPolicies = new Map();
    this.groupEntries = 0;
    this.groupBytes = 0;
    this.metrics
      .timeRedis(
        'xadd',
        this.streams.addWrites(
          group.map((w) => w.batch),
          (key) => policies.get(key)!,
        ),
      )
      .then(
        (results) => {
          this.count(group, results);
          for (let i = 0; i < group.length; i++) tell(group[i].done, results[i]);
        },
        (err: unknown) => {
          for (const w of group) tell(w.done, err);
        },
      );
  }

  private count(group: Pending[], results: (string[] | Error)[]): void {
    const totals = new Map<string, { entries: number; bytes: number }>();
    for (let i = 0; i < group.length; i++) {
      if (results[i] instanceof Error) continue;
      const { transport, batch, bytes } = group[i];
      const t = totals.get(transport);
      if (t) {
        t.entries += batch.length;
        t.bytes += bytes;
      } else totals.set(transport, { entries: batch.length, bytes });
    }
    for (const [transport, t] of totals) {
      this.metrics.entriesPushed.inc({ transport }, t.entries);
      this.metrics.bytesPushed.inc({ transport }, t.bytes);
    }
  }
}

const logger = new Logger(StreamWriter.name);

/** Tells a write its outcome; a callback that throws is logged and does not stop the others. */
function tell(done: WriteDone, outcome: unknown): void {
  try {
    if (Array.isArray(outcome)) done.stored(outcome as string[]);
    else done.failed(outcome);
  } catch (err) {
    logger.error(`write callback failed: ${(err as Error).message}`);
  }
}
