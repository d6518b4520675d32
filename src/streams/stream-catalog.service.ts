import { Injectable } from '@nestjs/common';
import { RedisConnections } from '../redis/redis-connections';
import { RedisStreamsService, StreamInfo } from '../redis/redis-streams.service';
import { StreamMeta, StreamMetaService } from './stream-meta.service';

export interface StreamDescription {
  key: string;
  /** XINFO STREAM, or null when the key holds no stream (e.g. metadata only). */
  info: StreamInfo | null;
  meta: StreamMeta | null;
}

const SCAN_PAGE = 1000;

/** Escapes glob metacharacters so a literal prefix can be used in a SCAN MATCH pattern. */
export function scanLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Finds streams (SCAN with TYPE stream, in pages, never KEYS) and describes them in bulk. */
@Injectable()
export class StreamCatalog {
  constructor(
    private readonly connections: RedisConnections,
    private readonly streams: RedisStreamsService,
    private readonly meta: StreamMetaService,
  ) {}

  /** Every stream key matching a Redis glob `match` (default all), sorted, at most `limit`. */
  async keys(match = '*', limit = 100_000): Promise<string[]> {
    const redis = this.connections.command;
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, page] = await redis.scan(cursor, 'MATCH', match, 'COUNT', SCAN_PAGE, 'TYPE', 'stream');
      cursor = next;
      for (const key of page) found.add(key);
    } while (cursor !== '0' && found.size < limit);
    return [...found].sort().slice(0, limit);
  }

  /** Metadata keys matching `match` over data keys (streams that have metadata but maybe no data). */
  async metaOnlyKeys(match = '*', limit = 100_000): Promise<string[]> {
    const prefix = ':stream:meta:';
    const redis = this.connections.command;
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, page] = await redis.scan(cursor, 'MATCH', `${scanLiteral(prefix)}${match}`, 'COUNT', SCAN_PAGE);
      cursor = next;
      for (const key of page) found.add(key.slice(prefix.length));
    } while (cursor !== '0' && found.size < limit);
    return [...found].sort().slice(0, limit);
  }

  /** XINFO and metadata for many keys in two round trips, whatever their number. */
  async describe(keys: string[]): Promise<StreamDescription[]> {
    const [infos, metas] = await Promise.all([this.streams.info(keys), this.meta.get(keys)]);
    return keys.map((key, i) => ({ key, info: infos[i], meta: metas[i] }));
  }
}
