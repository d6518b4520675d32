import { Injectable } from '@nestjs/common';
import { AuthUser } from '../auth/auth-user';
import { PermissionsService } from '../auth/permissions.service';
import { MetricsService } from '../health/metrics.service';
import { StreamEntry } from '../redis/redis-streams.service';
import { ReadHub } from '../streams/read-hub.service';
import { scanLiteral, StreamCatalog } from '../streams/stream-catalog.service';
import { StreamError } from '../streams/stream-error';
import { parseStreamPath } from '../streams/stream-id';
import { StreamKeys } from '../streams/stream-keys.service';
import { StreamReader } from '../streams/stream-reader';
import { MAX_COUNT, StreamReaders } from '../streams/stream-readers.service';
import { EntryFeed, GlobSource } from './entry-feed';
import { DataEntryView } from './views';

export interface FeedRequest {
  deviceId: string | null;
  streamIds: string[];
  lastEntryId: string | null;
  count: number;
  latest: boolean;
}

/** How often a glob subscription looks for new streams; listings are shared for as long. */
const RESCAN_MS = 1000;
const TRANSPORT = { transport: 'graphql' };

/**
 * Opens the `data` subscription's feeds on the read hub: one Redis reader per process whatever
 * the number of subscribers. A single id with `*` is a glob over the device's stream ids that
 * also picks up streams created later; only streams the user may read are included.
 */
@Injectable()
export class DataFeeds {
  private readonly scans = new Map<string, { at: number; keys: Promise<string[]> }>();

  constructor(
    private readonly hub: ReadHub,
    private readonly readers: StreamReaders,
    private readonly catalog: StreamCatalog,
    private readonly keys: StreamKeys,
    private readonly permissions: PermissionsService,
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
    const live = (): boolean => this.hub.active;
    const view = (entry: StreamEntry): DataEntryView => {
      this.metrics.entriesPulled.inc(TRANSPORT);
      this.metrics.bytesPulled.inc(TRANSPORT, entry.data.length);
      return new DataEntryView(this.keys.streamId(entry.key, device), entry);
    };
    if (path.kind === 'list' && path.ids.length === streamIds.length) {
      const reader = await this.readers.open(user, device, streamIds, req.lastEntryId ?? undefined, { count, latest });
      return new EntryFeed(reader, view, live);
    }
    if (path.kind === 'list' || streamIds.length > 1) {
      throw new StreamError('BAD_STREAM_ID', 'streamIds takes stream ids, or a single pattern with *');
    }
    const pattern = path.kind === 'glob' ? path.pattern : '*';
    const scan = (): Promise<string[]> => this.matching(user, device, pattern);
    const [cursor] = StreamReaders.cursors(req.lastEntryId ?? undefined, 1);
    const keys = await scan();
    const options = { count, latest };
    const reader = await StreamReader.open(
      this.hub,
      keys,
      keys.map(() => cursor),
      options,
    );
    const source = new GlobSource(reader, scan, (k, c) => StreamReader.open(this.hub, k, c, options), RESCAN_MS);
    return new EntryFeed(source, view, live);
  }

  /** Readable stream keys of `device` matching `pattern`; one SCAN per pattern per RESCAN_MS. */
  private async matching(user: AuthUser, device: string, pattern: string): Promise<string[]> {
    const scanPattern = this.keys.prefixing ? `${scanLiteral(`${device}:`)}${pattern}` : pattern;
    const now = Date.now();
    let scan = this.scans.get(scanPattern);
    if (!scan || now - scan.at >= RESCAN_MS) {
      for (const [p, s] of this.scans) if (now - s.at >= RESCAN_MS) this.scans.delete(p);
      scan = { at: now, keys: this.catalog.keys(scanPattern) };
      this.scans.set(scanPattern, scan);
      scan.keys.catch(() => this.scans.delete(scanPattern));
    }
    return (await scan.keys).filter((key) => !key.startsWith(':') && this.permissions.canRead(user, key));
  }
}
