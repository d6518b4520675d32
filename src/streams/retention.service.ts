import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RedisConnections } from '../redis/redis-connections';
import { RedisStreamsService } from '../redis/redis-streams.service';
import { StreamCatalog } from './stream-catalog.service';
import { StreamMetaService } from './stream-meta.service';

export const SWEEP_INTERVAL_MS = 60_000;
/** Held for one interval by the instance that sweeps, so that N instances sweep once, not N times. */
export const SWEEP_LOCK_KEY = ':retention:lock';
const TRIM_CONCURRENCY = 64;

export interface SweepResult {
  streams: number;
  removed: number;
}

/**
 * The periodic trim sweep (PROTOCOL §1 retention): writes trim as they go, but a stream that
 * nobody writes to any more still has to lose entries older than its `max_age_ms`, and a lowered
 * `maxlen` should apply without waiting for the next write. Every stream with metadata is
 * trimmed to its policy (StreamMetaService.trimPolicies, the same one writes use).
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private readonly owner = randomUUID();
  private timer?: NodeJS.Timeout;
  private failing = false;

  constructor(
    private readonly connections: RedisConnections,
    private readonly catalog: StreamCatalog,
    private readonly meta: StreamMetaService,
    private readonly streams: RedisStreamsService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), SWEEP_INTERVAL_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    try {
      const result = await this.sweep();
      if (result?.removed)
        this.logger.log(`retention: trimmed ${result.removed} entries from ${result.streams} streams`);
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.logger.warn(`retention sweep failed: ${(err as Error).message}`);
      this.failing = true;
    }
  }

  /** Trims every stream with metadata; null when another instance swept within the interval. */
  async sweep(): Promise<SweepResult | null> {
    const locked = await this.connections.command.set(SWEEP_LOCK_KEY, this.owner, 'PX', SWEEP_INTERVAL_MS - 1000, 'NX');
    if (locked !== 'OK') return null;
    const keys = await this.catalog.metaOnlyKeys();
    const policies = await this.meta.trimPolicies(keys);
    let removed = 0;
    for (let i = 0; i < keys.length; i += TRIM_CONCURRENCY) {
      const chunk = keys.slice(i, i + TRIM_CONCURRENCY);
      const counts = await Promise.all(
        // A key that holds something else than a stream (WRONGTYPE) is skipped, not fatal.
        chunk.map((key) =>
          this.streams.trim(key, policies.get(key)!).catch((err: Error) => {
            if (err.message.startsWith('WRONGTYPE')) return 0;
            throw err;
          }),
        ),
      );
      for (const n of counts) removed += n;
    }
    return { streams: keys.length, removed };
  }
}
