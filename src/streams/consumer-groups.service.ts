import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { RedisConnections } from '../redis/redis-connections';
import { RedisStreamsService, StreamEntry } from '../redis/redis-streams.service';
import { compareIds } from '../redis/entry-id';
import { StreamError } from './stream-error';

export interface GroupOptions {
  group: string;
  consumer: string;
  /** Entries per stream per read. */
  count: number;
  /** `auto`: entries are acknowledged as they are read (at most once, NOACK). */
  ackMode: 'manual' | 'auto';
  /** Create the group (MKSTREAM) when missing, from `startId`; else refuse with NOT_FOUND. */
  create: boolean;
  startId: string;
  claimIdleMs: number;
  maxDeliveries: number;
}

/** What a transport gives the group: where entries go and whether it can take more now. */
export interface GroupSink {
  deliver(entries: StreamEntry[]): void;
  readonly congested: boolean;
  drained(): Promise<void>;
}

export const DEAD_SUFFIX = ':dead';
const BLOCK_MS = 1000;

/** A consumer connected to this process. */
export class GroupMember {
  active = true;

  constructor(
    readonly options: GroupOptions,
    readonly sink: GroupSink,
    private readonly channel: GroupChannel,
  ) {}

  /** Stops reading for this consumer; its unacknowledged entries stay pending for it. */
  leave(): void {
    if (!this.active) return;
    this.active = false;
    this.channel.remove(this);
  }
}

/**
 * One consumer group (over one or more streams) as served by this process: one dedicated blocking
 * connection takes turns among the group's consumers that can take entries, and a sweep claims
 * entries left idle too long (XPENDING, then XCLAIM by id) or moves them to `{stream}:dead` after too many
 * deliveries.
 */
class GroupChannel {
  private readonly logger = new Logger('ConsumerGroup');
  readonly members: GroupMember[] = [];
  private turn = 0;
  private conn?: Redis;
  private wake?: () => void;
  private sweeper?: NodeJS.Timeout;
  private running = true;
  private sweeping = false;

  constructor(
    readonly keys: string[],
    readonly group: string,
    private readonly streams: RedisStreamsService,
    private readonly connections: RedisConnections,
    private readonly onEmpty: () => void,
  ) {}

  add(member: GroupMember): void {
    this.members.push(member);
    if (!this.conn) {
      this.conn = this.connections.createBlocking(`group:${this.group}`);
      void this.loop();
      const every = Math.max(50, Math.min(5000, Math.floor(member.options.claimIdleMs / 2)));
      this.sweeper = setInterval(() => void this.sweep(), every);
      this.sweeper.unref();
    }
    this.wake?.();
  }

  remove(member: GroupMember): void {
    const i = this.members.indexOf(member);
    if (i >= 0) this.members.splice(i, 1);
    if (this.members.length === 0) this.stop();
    this.wake?.();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.sweeper);
    this.conn?.disconnect();
    this.wake?.();
    this.onEmpty();
  }

  /** The next consumer, in turn, that can take entries now; waits while none can. */
  private async nextReady(): Promise<GroupMember | null> {
    for (;;) {
      if (!this.running) return null;
      const n = this.members.length;
      for (let i = 0; i < n; i++) {
        const m = this.members[(this.turn + i) % n];
        if (!m.sink.congested) {
          this.turn = (this.turn + i + 1) % n;
          return m;
        }
      }
      await Promise.race([...this.members.map((m) => m.sink.drained()), new Promise<void>((r) => (this.wake = r))]);
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const member = await this.nextReady();
      if (!member) break;
      const { consumer, count, ackMode } = member.options;
      try {
        const entries = await this.streams.readGroup(
          this.group,
          consumer,
          this.keys,
          this.keys.map(() => '>'),
          count,
          {
            blockMs: BLOCK_MS,
            noAck: ackMode === 'auto',
            client: this.conn,
          },
        );
        failures = 0;
        // Entries read for a consumer that left meanwhile stay pending for it; the sweep claims them.
        if (entries.length > 0 && member.active) member.sink.deliver(entries);
      } catch (err) {
        if (!this.running) break;
        if (failures++ === 0) this.logger.warn(`group ${this.group}: ${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, Math.min(100 * failures, 2000)));
      }
    }
  }

  /** Dead-letters entries delivered too often, then claims idle ones for live consumers. */
  async sweep(): Promise<void> {
    const live = this.members.filter((m) => m.options.ackMode === 'manual');
    // Sweeps never overlap: two at once would claim the same entries twice.
    if (live.length === 0 || this.sweeping) return;
    this.sweeping = true;
    const { claimIdleMs, maxDeliveries } = live[0].options;
    try {
      for (const key of this.keys) {
        // One snapshot decides both: an entry listed with fewer than max deliveries is claimed by
        // id (XCLAIM re-checks its idle time), so none can be claimed past max_deliveries by an
        // entry becoming idle between two commands.
        const idle = await this.streams.pending(key, this.group, { minIdleMs: claimIdleMs, count: 100 });
        const claimable: string[] = [];
        for (const p of idle) {
          if (p.deliveries < maxDeliveries) {
            claimable.push(p.id);
            continue;
          }
          const [entry] = await this.streams.range(key, p.id, p.id);
          if (entry) await this.streams.deadLetter(key, key + DEAD_SUFFIX, this.group, entry, p);
          else await this.streams.ack([key], this.group, [p.id]);
        }
        if (claimable.length === 0) continue;
        const taker = live[this.turn % live.length];
        const claimed = await this.streams.claim(key, this.group, taker.options.consumer, claimIdleMs, claimable);
        if (claimed.length > 0 && taker.active) taker.sink.deliver(claimed);
      }
    } catch (err) {
      this.logger.warn(`group ${this.group} sweep: ${(err as Error).message}`);
    } finally {
      this.sweeping = false;
    }
  }
}

/**
 * Consumer groups over the gateway (PROTOCOL §8): at-least-once delivery with acknowledgements,
 * replay of a consumer's own pending entries on (re)connect, claiming and dead-lettering.
 */
@Injectable()
export class ConsumerGroups implements OnApplicationShutdown {
  private readonly channels = new Map<string, GroupChannel>();

  constructor(
    private readonly streams: RedisStreamsService,
    private readonly connections: RedisConnections,
  ) {}

  /** Creates the group when allowed (BUSYGROUP tolerated), or checks that it exists. */
  async ensureGroup(keys: string[], options: GroupOptions): Promise<void> {
    for (const key of keys) {
      if (options.create) {
        await this.streams.createGroup(key, options.group, options.startId);
        continue;
      }
      const groups = await this.streams.groups(key).catch(() => []);
      if (!groups.some((g) => g.name === options.group)) {
        throw new StreamError('NOT_FOUND', `no consumer group ${options.group} on this stream (create=false)`);
      }
    }
  }

  /**
   * A page of the consumer's own pending entries (delivered before, never acknowledged) after the
   * `after` ids, oldest first; advances `after`. Pending entries trimmed from the stream meanwhile
   * can never be delivered: they are acknowledged and skipped. False when no page is left.
   */
  async pendingPage(keys: string[], options: GroupOptions, after: string[]): Promise<StreamEntry[] | false> {
    const gone: Promise<unknown>[] = [];
    let seen = false;
    const advance = (key: string, id: string): void => {
      const i = keys.indexOf(key);
      seen = true;
      if (compareIds(id, after[i]) > 0) after[i] = id;
    };
    const entries = await this.streams.readGroup(options.group, options.consumer, keys, [...after], options.count, {
      onDeleted: (key, ids) => {
        for (const id of ids) advance(key, id);
        gone.push(this.streams.ack([key], options.group, ids));
      },
    });
    for (const e of entries) advance(e.key, e.id);
    await Promise.all(gone);
    return seen ? entries : false;
  }

  /** Starts delivering new entries of the group to `sink`. */
  join(keys: string[], options: GroupOptions, sink: GroupSink): GroupMember {
    const id = `${options.group}\u0000${keys.join('\u0000')}`;
    let channel = this.channels.get(id);
    if (!channel) {
      channel = new GroupChannel(keys, options.group, this.streams, this.connections, () => this.channels.delete(id));
      this.channels.set(id, channel);
    }
    const member = new GroupMember(options, sink, channel);
    channel.add(member);
    return member;
  }

  /** Acknowledges ids in every stream of the group; returns the ids that were not pending. */
  async ack(keys: string[], group: string, ids: string[]): Promise<string[]> {
    const counts = await this.streams.ack(keys, group, ids);
    return ids.filter((_, i) => counts[i] === 0);
  }

  onApplicationShutdown(): void {
    for (const channel of [...this.channels.values()]) channel.stop();
  }
}
