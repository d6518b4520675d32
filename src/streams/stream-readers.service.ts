import { Injectable } from '@nestjs/common';
import { AuthUser } from '../auth/auth-user';
import { PermissionsService } from '../auth/permissions.service';
import { Cursor, IdError, parseCursor } from '../redis/entry-id';
import { CREATED_EVENTS } from '../redis/scripts';
import { scanLiteral, StreamCatalog } from './stream-catalog.service';
import { globToRegExp, StreamPath } from './stream-id';
import { ReadHub } from './read-hub.service';
import { StreamError } from './stream-error';
import { StreamKeys } from './stream-keys.service';
import { ReaderOptions, StreamReader } from './stream-reader';

export const MAX_COUNT = 10000;

/**
 * Opens readers for any transport: read permission per stream, cursor parsing (`last_entry_id`:
 * one for all streams or one per stream joined by `+`), then a StreamReader on the hub.
 */
@Injectable()
export class StreamReaders {
  constructor(
    private readonly hub: ReadHub,
    private readonly keys: StreamKeys,
    private readonly permissions: PermissionsService,
    private readonly catalog: StreamCatalog,
  ) {}

  /** The data keys of `streamIds`, or a FORBIDDEN error naming the first one not readable. */
  readableKeys(user: AuthUser, device: string, streamIds: string[]): string[] {
    return streamIds.map((sid) => {
      const key = this.keys.key(device, sid);
      if (!this.permissions.canRead(user, key))
        throw new StreamError('FORBIDDEN', `no read permission for stream ${sid}`);
      return key;
    });
  }

  /** Parses `last_entry_id` for `n` streams (default `$`); a space stands for an unencoded `+`. */
  static cursors(raw: string | undefined, n: number): Cursor[] {
    const parts = (raw ?? '$').split(/[+ ]/);
    if (parts.length !== 1 && parts.length !== n) {
      throw new StreamError('BAD_ID', `last_entry_id has ${parts.length} cursors for ${n} streams`);
    }
    try {
      const cursors = parts.map(parseCursor);
      return parts.length === 1 ? Array<Cursor>(n).fill(cursors[0]) : cursors;
    } catch (err) {
      if (err instanceof IdError) throw new StreamError('BAD_ID', err.message);
      throw err;
    }
  }

  /** A count between 1 and MAX_COUNT (default 1). */
  static count(raw: string | undefined, fallback = 1): number {
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_COUNT) {
      throw new StreamError('BAD_REQUEST', `count must be an integer from 1 to ${MAX_COUNT}`);
    }
    return Number(raw);
  }

  async open(
    user: AuthUser,
    device: string,
    streamIds: string[],
    lastEntryId: string | undefined,
    options: ReaderOptions,
  ): Promise<StreamReader> {
    const keys = this.readableKeys(user, device, streamIds);
    const cursors = StreamReaders.cursors(lastEntryId, keys.length);
    return StreamReader.open(this.hub, keys, cursors, options);
  }

  /**
   * Opens a reader on a parsed pull path: a list of streams (as `open`), or `*` / a glob over the
   * device's stream ids. A wildcard reader covers the matching streams the user may read (others
   * are skipped, not refused) and follows streams created later, from their first entry.
   */
  async openPath(
    user: AuthUser,
    device: string,
    path: StreamPath,
    lastEntryId: string | undefined,
    options: ReaderOptions,
  ): Promise<StreamReader> {
    if (path.kind === 'list') return this.open(user, device, path.ids, lastEntryId, options);
    const pattern = path.kind === 'glob' ? path.pattern : '*';
    const idMatch = globToRegExp(pattern);
    const prefix = this.keys.key(device, 'x').slice(0, -1);
    const accept = (key: string): boolean =>
      key.startsWith(prefix) &&
      !key.startsWith(':') &&
      idMatch.test(key.slice(prefix.length)) &&
      this.permissions.canRead(user, key);
    // Creation events are followed from before the listing, so no stream falls between the two.
    const [after] = await this.hub.endIds([CREATED_EVENTS]);
    const keys = (await this.catalog.keys(`${scanLiteral(prefix)}*`)).filter(accept);
    const [cursor] = StreamReaders.cursors(lastEntryId, 1);
    return StreamReader.open(
      this.hub,
      keys,
      keys.map(() => cursor),
      options,
      { after, accept },
    );
  }
}
