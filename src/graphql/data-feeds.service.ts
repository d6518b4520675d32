import { Injectable } from '@nestjs/common';
import { AuthUser } from '../auth/auth-user';
import { MetricsService } from '../health/metrics.service';
import { StreamEntry } from '../redis/redis-streams.service';
import { ReadHub } from '../streams/read-hub.service';
import { StreamError } from '../streams/stream-error';
import { parseStreamPath } from '../streams/stream-id';
import { StreamKeys } from '../streams/stream-keys.service';
import { MAX_COUNT, StreamReaders } from '../streams/stream-readers.service';
import { EntryFeed } from './entry-feed';
import { DataEntryView } from './views';

export interface FeedRequest {
  deviceId: string | null;
  streamIds: string[];
  lastEntryId: string | null;
  count: number;
  latest: boolean;
}

/**
 * Opens the `data` subscription's feeds on the read hub: one Redis reader per process whatever
 * the number of subscribers. A single id with `*` is a glob over the device's stream ids, read as
 * a `*` pull path is: only streams the user may read, streams created later included.
 */
@Injectable()
export class DataFeeds {
  constructor(
    private readonly hub: ReadHub,
    private readonly readers: StreamReaders,
    private readonly keys: StreamKeys,
    private readonly metrics: MetricsService,
  ) {}

  async open(user: AuthUser, req: FeedRequest): Promise<EntryFeed<DataEntryView>> {
    const device = this.keys.device(req.deviceId);
    const { count, latest, streamIds } = req;
    if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
      throw new StreamError('BAD_REQUEST', `count must be an integer from 1 to ${MAX_COUNT}`);
    }
    if (streamIds.length === 0) throw new StreamError('BAD_REQUEST', 'streamIds must name at least one stream');
    const path = parseStreamPath(streamIds.join('+'), 'pull');
    if (path.kind === 'list' && path.ids.length !== streamIds.length) {
      throw new StreamError('BAD_STREAM_ID', 'a stream id may not contain + or a space');
    }
    const view = (entry: StreamEntry): DataEntryView => {
      this.metrics.countPulled('graphql', 1, entry.data.length);
      return new DataEntryView(this.keys.streamId(entry.key, device), entry);
    };
    const reader = await this.readers.openPath(user, device, path, req.lastEntryId ?? undefined, { count, latest });
    return new EntryFeed(reader, view, () => this.hub.active);
  }
}
