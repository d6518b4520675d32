import { Injectable } from '@nestjs/common';
import { AuthUser } from '../auth/auth-user';
import { PermissionsService } from '../auth/permissions.service';
import { MetricsService } from '../health/metrics.service';
import { NewEntry, RedisStreamsService } from '../redis/redis-streams.service';
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

  /** Stores all entries or none; resolves to their ids in order. */
  async write(user: AuthUser, device: string, entries: EntryToWrite[], transport: string): Promise<string[]> {
    const keyOf = new Map<string, string>();
    for (const e of entries) {
      if (!keyOf.has(e.streamId)) keyOf.set(e.streamId, this.writableKeys(user, device, [e.streamId])[0]);
    }
    const policies = await this.meta.trimPolicies([...keyOf.values()]);
    const batch: NewEntry[] = entries.map((e) => ({ key: keyOf.get(e.streamId)!, id: e.id, data: e.data }));
    const ids = await this.metrics.timeRedis(
      'xadd',
      this.streams.add(batch, (key) => policies.get(key)!),
    );
    let bytes = 0;
    for (const e of entries) bytes += e.data.length;
    this.metrics.entriesPushed.inc({ transport }, entries.length);
    this.metrics.bytesPushed.inc({ transport }, bytes);
    return ids;
  }
}
