import { Injectable } from '@nestjs/common';
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

/** The one write path of every transport: permission per stream, retention, one atomic write. */
@Injectable()
export class StreamWriter {
  /** Settles once the last write that had to fetch retention settings has been sent to Redis. */
  private queue: Promise<void> | null = null;

  constructor(
    private readonly streams: RedisStreamsService,
    private readonly keys: StreamKeys,
    private readonly meta: StreamMetaService,
    private readonly permissions: PermissionsService,
    private readonly metrics: MetricsService,
  ) {}

  /** The data keys of `streamIds`, or a FORBIDDEN error naming the first one not writable. */
  writableKeys(user: AuthUser, device: string, streamIds: string[]): string[] {
    return streamIds.map((sid) => {
      const key = this.keys.key(device, sid);
      if (!this.permissions.canWrite(user, key))
        throw new StreamError('FORBIDDEN', `no write permission for stream ${sid}`);
      return key;
    });
  }

  /**
   * Stores all entries or none; resolves to their ids in order. Writes reach Redis in call order
   * (so one socket's batches get increasing ids and in-order acks) without waiting for each
   * other's replies: when retention settings must be fetched, later writes queue behind that.
   */
  write(user: AuthUser, device: string, entries: EntryToWrite[], transport: string): Promise<string[]> {
    let batch: NewEntry[];
    let keys: string[];
    try {
      const keyOf = new Map<string, string>();
      for (const e of entries) {
        if (!keyOf.has(e.streamId)) keyOf.set(e.streamId, this.writableKeys(user, device, [e.streamId])[0]);
      }
      keys = [...keyOf.values()];
      batch = entries.map((e) => ({ key: keyOf.get(e.streamId)!, id: e.id, data: e.data }));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const cached = this.queue ? null : this.meta.cachedPolicies(keys);
    if (cached) return this.issue(batch, cached, transport);
    const issued = (this.queue ?? Promise.resolve())
      .then(() => this.meta.trimPolicies(keys))
      .then((policies) => ({ done: this.issue(batch, policies, transport) }));
    const gate = issued.then(
      () => undefined,
      () => undefined,
    );
    this.queue = gate;
    void gate.then(() => {
      if (this.queue === gate) this.queue = null;
    });
    return issued.then((r) => r.done);
  }

  private async issue(batch: NewEntry[], policies: Map<string, TrimPolicy>, transport: string): Promise<string[]> {
    const ids = await this.metrics.timeRedis(
      'xadd',
      this.streams.add(batch, (key) => policies.get(key)!),
    );
    let bytes = 0;
    for (const e of batch) bytes += e.data.length;
    this.metrics.entriesPushed.inc({ transport }, batch.length);
    this.metrics.bytesPushed.inc({ transport }, bytes);
    return ids;
  }
}
