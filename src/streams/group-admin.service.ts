import { ConflictException, Injectable } from '@nestjs/common';
import { AuthUser } from '../auth/auth-user';
import { PermissionsService } from '../auth/permissions.service';
import { cursorToExclusiveId, IdError, parseCursor } from '../redis/entry-id';
import { RedisStreamsService } from '../redis/redis-streams.service';
import { RangeEntryDto } from '../data-gateway/dto/range-entry.dto';
import {
  AckResultDto,
  ConsumerInfoDto,
  DeletedConsumerDto,
  GROUP_NAME,
  GROUP_NAME_RULE,
  GroupInfoDto,
  idListProblem,
  PendingEntryDto,
} from './dto/groups.dto';
import { isoTimeOf } from './dto/stream-info.dto';
import { StreamError } from './stream-error';
import { StreamKeys } from './stream-keys.service';

/**
 * A group position as XGROUP CREATE and SETID take it (PROTOCOL §1 ids): `$` stays `$` (resolved by
 * Redis), `0` is the start, an id is itself, a time becomes the id just before it so that the
 * entries at or after that time are delivered next.
 */
export function groupPosition(raw: string, name: string): string {
  if (raw === '$') return '$';
  try {
    return cursorToExclusiveId(parseCursor(raw)) ?? '$';
  } catch (err) {
    if (err instanceof IdError) throw new StreamError('BAD_ID', `${name}: ${err.message}`);
    throw err;
  }
}

function checkName(kind: 'group' | 'consumer', name: string): void {
  if (!GROUP_NAME.test(name)) throw new StreamError('BAD_REQUEST', `${kind} must be ${GROUP_NAME_RULE}`);
}

function checkIds(ids: string[]): void {
  const problem = idListProblem(ids);
  if (problem !== null) throw new StreamError('BAD_ID', problem);
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function groupInfo(raw: Record<string, unknown>): GroupInfoDto {
  const consumers = (raw.consumers as Record<string, unknown>[]).map((c): ConsumerInfoDto => ({
    name: String(c.name),
    pending: Number(c.pending),
    idle_ms: Number(c.idle),
    inactive_ms: num(c.inactive),
  }));
  return {
    name: String(raw.name),
    consumers,
    pending: Number(raw.pending),
    last_delivered_id: String(raw['last-delivered-id']),
    entries_read: num(raw['entries-read']),
    lag: num(raw.lag),
  };
}

/** A stream's group as the REST routes address it, once permissions and existence are checked. */
interface GroupRef {
  key: string;
  info: GroupInfoDto;
}

/**
 * Consumer-group administration over REST (PROTOCOL §8): list, create, delete, set id, pending,
 * ack, claim and consumer deletion under `/streams/{stream_id}/groups`. Every route needs read
 * permission on the stream, deleting a group the admin role. Redis errors that mean "no such
 * stream / group" become 404s, never 500s.
 */
@Injectable()
export class GroupAdmin {
  constructor(
    private readonly streams: RedisStreamsService,
    private readonly keys: StreamKeys,
    private readonly permissions: PermissionsService,
  ) {}

  async list(user: AuthUser, device: string, streamId: string): Promise<GroupInfoDto[]> {
    return this.groupsOf(this.readableKey(user, device, streamId), streamId);
  }

  /** XGROUP CREATE ... MKSTREAM: a group may be set up before its stream has entries. */
  async create(user: AuthUser, device: string, streamId: string, group: string, startId = '$'): Promise<GroupInfoDto> {
    const key = this.readableKey(user, device, streamId);
    checkName('group', group);
    const position = groupPosition(startId, 'start_id');
    const created = await this.streams.createGroup(key, group, position).catch((err) => {
      throw this.translated(err, streamId, group);
    });
    if (!created) throw new ConflictException(`consumer group ${group} already exists on stream ${streamId}`);
    return (await this.find(key, streamId, group)).info;
  }

  async destroy(user: AuthUser, device: string, streamId: string, group: string): Promise<void> {
    const key = this.keys.key(device, streamId);
    if (!this.permissions.isAdmin(user))
      throw new StreamError('FORBIDDEN', 'deleting a consumer group needs the admin role');
    checkName('group', group);
    await this.find(key, streamId, group);
    await this.streams.destroyGroup(key, group).catch((err) => {
      throw this.translated(err, streamId, group);
    });
  }

  /** XGROUP SETID: where the group goes on; its pending entries stay pending. */
  async setId(user: AuthUser, device: string, streamId: string, group: string, id: string): Promise<GroupInfoDto> {
    const { key } = await this.group(user, device, streamId, group);
    const position = groupPosition(id, 'id');
    await this.streams.setGroupId(key, group, position).catch((err) => {
      throw this.translated(err, streamId, group);
    });
    return (await this.find(key, streamId, group)).info;
  }

  /** The oldest `count` pending entries, optionally of one consumer and idle at least `idleMs`. */
  async pending(
    user: AuthUser,
    device: string,
    streamId: string,
    group: string,
    options: { idleMs: number; count: number; consumer?: string },
  ): Promise<PendingEntryDto[]> {
    const { key, info } = await this.group(user, device, streamId, group);
    if (options.consumer !== undefined) this.consumerOf(info, options.consumer);
    const rows = await this.streams
      .pending(key, group, { minIdleMs: options.idleMs, count: options.count, consumer: options.consumer })
      .catch((err) => {
        throw this.translated(err, streamId, group);
      });
    return rows.map((p) => ({
      id: p.id,
      time: isoTimeOf(p.id),
      consumer: p.consumer,
      idle_ms: p.idleMs,
      deliveries: p.deliveries,
    }));
  }

  /** XACK; ids that were not pending are reported, not refused (nothing else is touched). */
  async ack(user: AuthUser, device: string, streamId: string, group: string, ids: string[]): Promise<AckResultDto> {
    checkIds(ids);
    const { key } = await this.group(user, device, streamId, group);
    const counts = await this.streams.ack([key], group, ids);
    return { acked: counts.filter((n) => n > 0).length, not_pending: ids.filter((_, i) => counts[i] === 0) };
  }

  /**
   * XCLAIM for `consumer` of the given pending ids idle at least `minIdleMs`. Ids not pending or not
   * idle enough are left as they are; entries deleted since their delivery leave the pending list.
   */
  async claim(
    user: AuthUser,
    device: string,
    streamId: string,
    group: string,
    request: { consumer: string; ids: string[]; minIdleMs: number },
  ): Promise<RangeEntryDto[]> {
    checkName('consumer', request.consumer);
    checkIds(request.ids);
    const { key } = await this.group(user, device, streamId, group);
    const entries = await this.streams
      .claim(key, group, request.consumer, request.minIdleMs, request.ids)
      .catch((err) => {
        throw this.translated(err, streamId, group);
      });
    return entries.map((e) => ({ id: e.id, time: isoTimeOf(e.id), data: e.data.toString('base64') }));
  }

  /**
   * XGROUP DELCONSUMER. Its pending entries would leave the group's pending list for good, so a
   * consumer that still has some is refused (409) unless `force`.
   */
  async deleteConsumer(
    user: AuthUser,
    device: string,
    streamId: string,
    group: string,
    consumer: string,
    force: boolean,
  ): Promise<DeletedConsumerDto> {
    checkName('consumer', consumer);
    const { key, info } = await this.group(user, device, streamId, group);
    const { pending } = this.consumerOf(info, consumer);
    if (pending > 0 && !force) {
      throw new ConflictException(
        `consumer ${consumer} still has ${pending} pending entries: claim or acknowledge them first, ` +
          'or delete with force=true (they would never be delivered again)',
      );
    }
    const dropped = await this.streams.deleteConsumer(key, group, consumer).catch((err) => {
      throw this.translated(err, streamId, group);
    });
    return { consumer, dropped_pending: dropped };
  }

  private readableKey(user: AuthUser, device: string, streamId: string): string {
    const key = this.keys.key(device, streamId);
    if (!this.permissions.canRead(user, key))
      throw new StreamError('FORBIDDEN', `no read permission for stream ${streamId}`);
    return key;
  }

  /** Permission, name and existence checks shared by the routes of one group. */
  private async group(user: AuthUser, device: string, streamId: string, group: string): Promise<GroupRef> {
    const key = this.readableKey(user, device, streamId);
    checkName('group', group);
    return this.find(key, streamId, group);
  }

  private async groupsOf(key: string, streamId: string): Promise<GroupInfoDto[]> {
    try {
      return (await this.streams.groups(key)).map(groupInfo);
    } catch (err) {
      throw this.translated(err, streamId);
    }
  }

  private async find(key: string, streamId: string, group: string): Promise<GroupRef> {
    const info = (await this.groupsOf(key, streamId)).find((g) => g.name === group);
    if (!info) throw new StreamError('NOT_FOUND', `no consumer group ${group} on stream ${streamId}`);
    return { key, info };
  }

  private consumerOf(info: GroupInfoDto, consumer: string): ConsumerInfoDto {
    const found = info.consumers.find((c) => c.name === consumer);
    if (!found) throw new StreamError('NOT_FOUND', `no consumer ${consumer} in group ${info.name}`);
    return found;
  }

  /**
   * Redis's answers for a key that is missing or not a stream, or a group that went away between
   * the check and the command, as 404s; anything else (Redis down, ...) unchanged.
   */
  private translated(err: unknown, streamId: string, group?: string): unknown {
    const message = err instanceof Error ? err.message : '';
    if (/^NOGROUP/.test(message) && group !== undefined)
      return new StreamError('NOT_FOUND', `no consumer group ${group} on stream ${streamId}`);
    if (/no such key|^WRONGTYPE|requires the key to exist/i.test(message))
      return new StreamError('NOT_FOUND', `no stream ${streamId}`);
    return err;
  }
}
