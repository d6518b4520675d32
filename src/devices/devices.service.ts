import { Injectable } from '@nestjs/common';
import { AuthUser } from '../auth/auth-user';
import { PermissionsService } from '../auth/permissions.service';
import { RedisConnections } from '../redis/redis-connections';
import { RedisStreamsService } from '../redis/redis-streams.service';
import { scanLiteral, StreamCatalog } from '../streams/stream-catalog.service';
import { StreamError } from '../streams/stream-error';
import { StreamKeys } from '../streams/stream-keys.service';
import { parseMeta, StreamMetaService } from '../streams/stream-meta.service';

/** Up to this many devices are checked with a SCAN each rather than one SCAN of every stream. */
const FEW_DEVICES = 8;

export type DeviceMeta = Record<string, unknown>;

/** Redis Streamer's layout (PROTOCOL §1), so that an existing Redis is served as it is. */
export const DEVICE_KEYS = {
  connected: ':devices:connected',
  seen: ':devices:seen',
  meta: (device: string): string => `:devices:meta:${device}`,
  connectedEvents: ':event:device.connected',
  metaEvents: ':event:device.meta',
};

/** The answers of the old server's mutations, key for key (clients may read them). */
export interface ConnectResult {
  connection_status_changed: boolean;
  connected: boolean;
  is_new_device: boolean;
  meta_set: boolean;
  'fired:device.connected': boolean;
  'fired:device.meta': boolean;
}

export interface DisconnectResult {
  connection_status_changed: boolean;
  connected: boolean;
  'fired:device.connected': boolean;
}

export interface MetaResult {
  meta_set: boolean;
  'fired:device.meta': boolean;
  meta: DeviceMeta;
}

/**
 * The device registry: which devices are connected or were ever seen, their metadata, and the
 * events that announce changes. Who may see or change a device is decided here too.
 */
@Injectable()
export class DevicesService {
  constructor(
    private readonly connections: RedisConnections,
    private readonly streams: RedisStreamsService,
    private readonly streamMeta: StreamMetaService,
    private readonly catalog: StreamCatalog,
    private readonly keys: StreamKeys,
    private readonly permissions: PermissionsService,
  ) {}

  private get redis() {
    return this.connections.command;
  }

  /** Connected devices, or with `all` every device ever seen; sorted. */
  async list(all: boolean): Promise<string[]> {
    const ids = await this.redis.smembers(all ? DEVICE_KEYS.seen : DEVICE_KEYS.connected);
    return ids.sort();
  }

  async isConnected(ids: string[]): Promise<boolean[]> {
    if (ids.length === 0) return [];
    const flags = await this.redis.smismember(DEVICE_KEYS.connected, ...ids);
    return flags.map((f) => f === 1);
  }

  /** Metadata of each device in one round trip; null where none was set. */
  async meta(ids: string[]): Promise<(DeviceMeta | null)[]> {
    if (ids.length === 0) return [];
    const raw = await this.redis.mget(...ids.map(DEVICE_KEYS.meta));
    return raw.map(parseMeta);
  }

  /**
   * Marks a device connected (and seen). With `meta`, replaces its metadata; without, keeps it.
   * Appends `{device_id, connected: true, meta}` to `:event:device.connected` and, when the
   * metadata was set, `{device_id, meta}` to `:event:device.meta`.
   */
  async connect(device: string, meta: DeviceMeta | undefined): Promise<ConnectResult> {
    const tx = this.redis.multi().sadd(DEVICE_KEYS.connected, device).sadd(DEVICE_KEYS.seen, device);
    if (meta !== undefined) tx.set(DEVICE_KEYS.meta(device), JSON.stringify(meta));
    const replies = await exec(tx);
    const events: [string, object][] = [
      [DEVICE_KEYS.connectedEvents, { device_id: device, connected: true, meta: meta ?? null }],
    ];
    if (meta !== undefined) events.push([DEVICE_KEYS.metaEvents, { device_id: device, meta }]);
    await this.fire(events);
    return {
      connection_status_changed: replies[0] === 1,
      connected: true,
      is_new_device: replies[1] === 1,
      meta_set: meta !== undefined,
      'fired:device.connected': true,
      'fired:device.meta': meta !== undefined,
    };
  }

  /** Removes a device from the connected set (it stays seen) and appends `{connected: false}`. */
  async disconnect(device: string): Promise<DisconnectResult> {
    const removed = await this.redis.srem(DEVICE_KEYS.connected, device);
    await this.fire([[DEVICE_KEYS.connectedEvents, { device_id: device, connected: false }]]);
    return { connection_status_changed: removed === 1, connected: false, 'fired:device.connected': true };
  }

  /** Replaces, or with `merge` shallow-merges into, a device's metadata; appends the event. */
  async setMeta(device: string, meta: DeviceMeta, merge: boolean): Promise<MetaResult> {
    const next = merge ? { ...((await this.meta([device]))[0] ?? {}), ...meta } : meta;
    await exec(this.redis.multi().set(DEVICE_KEYS.meta(device), JSON.stringify(next)).sadd(DEVICE_KEYS.seen, device));
    await this.fire([[DEVICE_KEYS.metaEvents, { device_id: device, meta: next }]]);
    return { meta_set: true, 'fired:device.meta': true, meta: next };
  }

  /** Event entries go through the one stream writer path, with the usual retention. */
  private async fire(events: [string, object][]): Promise<void> {
    const keys = events.map(([key]) => key);
    const policies = await this.streamMeta.trimPolicies(keys);
    await this.streams.add(
      events.map(([key, body]) => ({ key, id: null, data: Buffer.from(JSON.stringify(body)) })),
      (key) => policies.get(key)!,
    );
  }

  /**
   * The devices of `ids` that `user` may see: those whose whole key space it may read (a read
   * pattern matching `{device}:`), and those with at least one stream it may read.
   */
  async visible(user: AuthUser, ids: string[]): Promise<string[]> {
    const open = new Set(ids.filter((id) => this.permissions.canRead(user, `${id}:`)));
    const rest = ids.filter((id) => !open.has(id));
    if (rest.length > 0 && this.keys.prefixing) {
      // A few devices: SCAN each one's keys; many: one SCAN over every stream.
      const found =
        rest.length <= FEW_DEVICES
          ? (await Promise.all(rest.map((id) => this.catalog.keys(`${scanLiteral(id)}:*`)))).flat()
          : await this.catalog.keys('*');
      for (const key of found) {
        if (this.permissions.canRead(user, key)) open.add(key.slice(0, key.indexOf(':')));
      }
    }
    return ids.filter((id) => open.has(id));
  }

  /** Throws FORBIDDEN unless `user` may see `device`. */
  async assertVisible(user: AuthUser, device: string): Promise<void> {
    if ((await this.visible(user, [device])).length === 0) {
      throw new StreamError('FORBIDDEN', `no read permission for device ${device}`);
    }
  }

  /** Registry changes need write permission over the device's whole key space (`{device}:*`). */
  assertManage(user: AuthUser, device: string): void {
    if (!this.permissions.canWrite(user, `${device}:`)) {
      throw new StreamError('FORBIDDEN', `no write permission for device ${device}`);
    }
  }
}

/** MULTI/EXEC replies, throwing the first command error. */
async function exec(tx: { exec(): Promise<[Error | null, unknown][] | null> }): Promise<unknown[]> {
  const replies = (await tx.exec()) ?? [];
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
