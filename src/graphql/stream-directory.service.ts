import { Injectable } from '@nestjs/common';
import { AuthUser } from '../auth/auth-user';
import { PermissionsService } from '../auth/permissions.service';
import { scanLiteral, StreamCatalog, StreamDescription } from '../streams/stream-catalog.service';
import { StreamError } from '../streams/stream-error';
import { isValidStreamId } from '../streams/stream-id';
import { DEFAULT_DEVICE, StreamKeys } from '../streams/stream-keys.service';
import { RequestBatchers } from './batcher';
import { StreamName, StreamView } from './views';

/** Where ids are read: a device's stream ids, or (null) raw Redis keys. */
export type Scope = { device: string } | null;

/** `match`: a glob where only `*` is special, over the characters ids are made of. */
const MATCH = /^[A-Za-z0-9_.\-/:*]{1,200}$/;
/** System event streams (`:event:device.connected`, ...) may be named by their raw key. */
const EVENT_PREFIX = ':event:';

/**
 * Which streams a user may list and name, and their descriptions: every listing and lookup of the
 * GraphQL API goes through here, so permission filtering and id validation happen in one place.
 */
@Injectable()
export class StreamDirectory {
  private readonly descriptions: RequestBatchers<StreamDescription>;

  constructor(
    private readonly catalog: StreamCatalog,
    private readonly keys: StreamKeys,
    private readonly permissions: PermissionsService,
  ) {
    this.descriptions = new RequestBatchers((keys) => this.catalog.describe(keys));
  }

  /** The scope of a `deviceId` argument: absent means raw keys. */
  scope(deviceId: string | null | undefined): Scope {
    return deviceId == null ? null : { device: this.keys.device(deviceId) };
  }

  /**
   * Keys of the streams in `scope` matching `match` (default all) that `user` may read, sorted:
   * streams with data and streams that only have metadata.
   */
  async list(user: AuthUser, scope: Scope, match?: string | null): Promise<string[]> {
    if (match != null && !MATCH.test(match)) {
      throw new StreamError('BAD_REQUEST', 'match must be 1-200 characters of A-Z a-z 0-9 _ . - / : and *');
    }
    const prefix = scope && this.keys.prefixing ? scanLiteral(`${scope.device}:`) : '';
    const pattern = `${prefix}${match ?? '*'}`;
    const [data, metaOnly] = await Promise.all([this.catalog.keys(pattern), this.catalog.metaOnlyKeys(pattern)]);
    return [...new Set([...data, ...metaOnly])]
      .sort()
      .filter((key) => (scope === null || !key.startsWith(':')) && this.permissions.canRead(user, key));
  }

  /** The key of a stream named by `id` in `scope`; BAD_USER_INPUT for a bad id, FORBIDDEN unless readable. */
  key(user: AuthUser, scope: Scope, id: string): string {
    const key = scope ? this.keys.key(scope.device, id) : this.rawKey(id);
    if (!this.permissions.canRead(user, key)) throw new StreamError('FORBIDDEN', `no read permission for stream ${id}`);
    return key;
  }

  /** A raw key must be a data key or a system event stream: no other Redis key can be reached. */
  private rawKey(id: string): string {
    if (id.startsWith(EVENT_PREFIX) && isValidStreamId(id.slice(EVENT_PREFIX.length))) return id;
    if (!this.keys.prefixing) return this.keys.key(DEFAULT_DEVICE, id);
    const colon = id.indexOf(':');
    if (colon > 0) return this.keys.key(id.slice(0, colon), id.slice(colon + 1));
    throw new StreamError('BAD_STREAM_ID', `bad stream key ${JSON.stringify(id.slice(0, 70))}: expected device:stream`);
  }

  name(key: string, scope: Scope): StreamName {
    const colon = key.indexOf(':');
    const prefixed = this.keys.prefixing && colon > 0;
    const streamId = prefixed ? key.slice(colon + 1) : key;
    return { key, id: scope ? streamId : key, streamId, deviceId: prefixed ? key.slice(0, colon) : null };
  }

  /** XINFO and metadata of `keys`, batched with every other lookup of the same request. */
  describe(request: object, keys: string[]): Promise<StreamDescription[]> {
    return this.descriptions.for(request).loadMany(keys);
  }

  async views(request: object, scope: Scope, keys: string[]): Promise<StreamView[]> {
    const found = await this.describe(request, keys);
    return found.map((d) => new StreamView(this.name(d.key, scope), d));
  }

  /** One stream; NOT_FOUND when it has neither data nor metadata. */
  async view(request: object, scope: Scope, key: string): Promise<StreamView> {
    const [found] = await this.describe(request, [key]);
    if (!found.info && !found.meta) throw new StreamError('NOT_FOUND', `no stream ${this.name(key, scope).id}`);
    return new StreamView(this.name(key, scope), found);
  }
}
