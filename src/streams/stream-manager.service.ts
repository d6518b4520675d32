import { Injectable } from '@nestjs/common';
import { AuthUser } from '../auth/auth-user';
import { PermissionsService } from '../auth/permissions.service';
import { RedisStreamsService } from '../redis/redis-streams.service';
import { StreamInfoDto } from './dto/stream-info.dto';
import { ReadHub } from './read-hub.service';
import { scanLiteral, StreamCatalog } from './stream-catalog.service';
import { StreamError } from './stream-error';
import { StreamKeys } from './stream-keys.service';
import { StreamMeta, StreamMetaService } from './stream-meta.service';

/** Metadata keys that set a stream's retention (PROTOCOL §1): non-negative integers or null. */
const RETENTION_KEYS = ['maxlen', 'max_age_ms'];

/** A metadata object as sent by a client: a JSON object whose retention keys make sense. */
export function checkedMeta(body: unknown): StreamMeta {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new StreamError('BAD_REQUEST', 'metadata must be a JSON object');
  }
  const meta = body as StreamMeta;
  for (const name of RETENTION_KEYS) {
    const v = meta[name];
    if (v !== undefined && v !== null && !(typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
      throw new StreamError('BAD_REQUEST', `${name} must be a non-negative integer (0 = no limit) or null`);
    }
  }
  return meta;
}

/**
 * Stream management for REST (PROTOCOL §5): listings of a device's streams (SCAN TYPE stream
 * plus streams known only by their metadata), descriptions, metadata updates and deletion.
 * A stream is known when it has data or metadata.
 */
@Injectable()
export class StreamManager {
  constructor(
    private readonly catalog: StreamCatalog,
    private readonly keys: StreamKeys,
    private readonly meta: StreamMetaService,
    private readonly streams: RedisStreamsService,
    private readonly permissions: PermissionsService,
    private readonly hub: ReadHub,
  ) {}

  /** The data keys of a device's streams that `user` may read, sorted. */
  private async readableKeys(user: AuthUser, device: string): Promise<string[]> {
    const match = this.keys.prefixing ? `${scanLiteral(device)}:*` : '*';
    const [data, metaOnly] = await Promise.all([this.catalog.keys(match), this.catalog.metaOnlyKeys(match)]);
    const all = new Set([...data, ...metaOnly]);
    // System keys (`:event:...`) start with `:`, which no data key does.
    return [...all].filter((k) => !k.startsWith(':') && this.permissions.canRead(user, k)).sort();
  }

  async ids(user: AuthUser, device: string): Promise<string[]> {
    return (await this.readableKeys(user, device)).map((k) => this.keys.streamId(k, device));
  }

  async list(user: AuthUser, device: string): Promise<StreamInfoDto[]> {
    const described = await this.catalog.describe(await this.readableKeys(user, device));
    return described.map((d) => StreamInfoDto.from(d, this.keys.streamId(d.key, device)));
  }

  async describe(user: AuthUser, device: string, streamId: string): Promise<StreamInfoDto> {
    const key = this.keys.key(device, streamId);
    if (!this.permissions.canRead(user, key))
      throw new StreamError('FORBIDDEN', `no read permission for stream ${streamId}`);
    const [d] = await this.catalog.describe([key]);
    if (!d.info && !d.meta) throw new StreamError('NOT_FOUND', `no stream ${streamId}`);
    return StreamInfoDto.from(d, streamId);
  }

  /** Merges `body` into the metadata, or replaces it with `override`; needs write permission. */
  async updateMeta(
    user: AuthUser,
    device: string,
    streamId: string,
    body: unknown,
    override: boolean,
  ): Promise<StreamMeta> {
    const key = this.keys.key(device, streamId);
    if (!this.permissions.canWrite(user, key))
      throw new StreamError('FORBIDDEN', `no write permission for stream ${streamId}`);
    return this.meta.set(key, checkedMeta(body), !override);
  }

  /** Deletes data and metadata (admin only); NOT_FOUND when there was neither. */
  async delete(user: AuthUser, device: string, streamId: string): Promise<void> {
    const key = this.keys.key(device, streamId);
    if (!this.permissions.isAdmin(user)) throw new StreamError('FORBIDDEN', 'deleting a stream needs the admin role');
    const [[meta], removed] = await Promise.all([this.meta.get([key]), this.streams.delete([key])]);
    this.hub.restart(key);
    await this.meta.delete(key);
    if (!meta && removed === 0) throw new StreamError('NOT_FOUND', `no stream ${streamId}`);
  }
}
