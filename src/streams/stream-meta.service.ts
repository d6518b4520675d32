import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RedisConnections } from '../redis/redis-connections';
import { TrimPolicy } from '../redis/redis-streams.service';
import { StreamKeys } from './stream-keys.service';

export type StreamMeta = Record<string, unknown>;

/** How long a stream's retention settings are cached by the writers of this process. */
const POLICY_TTL_MS = 5000;

/**
 * Stored metadata text as an object: a JSON object as it is, any other JSON value or non-JSON text
 * (written by other tools) wrapped as `{ value }`.
 */
export function parseMeta(text: string | null): StreamMeta | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as StreamMeta) : { value };
  } catch {
    return { value: text };
  }
}

function nonNegativeInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/**
 * Stream metadata (`:stream:meta:{key}`, a JSON object) and the retention it implies: `maxlen`
 * (MAXLEN ~, 0 = keep all) and `max_age_ms` (MINID ~ from the clock), else STREAM_MAXLEN.
 */
@Injectable()
export class StreamMetaService {
  private readonly defaultMaxlen: number;
  private readonly policies = new Map<string, { maxlen?: number; maxAgeMs?: number; until: number }>();

  constructor(
    private readonly connections: RedisConnections,
    private readonly keys: StreamKeys,
    config: AppConfig,
  ) {
    this.defaultMaxlen = config.get('STREAM_MAXLEN');
  }

  async get(keys: string[]): Promise<(StreamMeta | null)[]> {
    if (keys.length === 0) return [];
    const raw = await this.connections.command.mget(...keys.map((k) => this.keys.metaKey(k)));
    return raw.map(parseMeta);
  }

  /** Replaces, or with `merge` shallow-merges into, a stream's metadata; returns the result. */
  async set(key: string, meta: StreamMeta, merge: boolean): Promise<StreamMeta> {
    const next = merge ? { ...((await this.get([key]))[0] ?? {}), ...meta } : meta;
    await this.connections.command.set(this.keys.metaKey(key), JSON.stringify(next));
    this.policies.delete(key);
    return next;
  }

  async delete(key: string): Promise<void> {
    await this.connections.command.del(this.keys.metaKey(key));
    this.policies.delete(key);
  }

  /** Retention for each key when all are cached and fresh, else null (no I/O). */
  cachedPolicies(keys: string[]): Map<string, TrimPolicy> | null {
    const now = Date.now();
    for (const key of keys) if ((this.policies.get(key)?.until ?? 0) < now) return null;
    return this.policiesOf(keys, now);
  }

  /** Retention for each key, from a short-lived cache (one MGET for the keys not cached). */
  async trimPolicies(keys: string[]): Promise<Map<string, TrimPolicy>> {
    const now = Date.now();
    const stale = keys.filter((k) => (this.policies.get(k)?.until ?? 0) < now);
    if (stale.length) {
      const metas = await this.get(stale);
      stale.forEach((key, i) => {
        const meta = metas[i];
        this.policies.set(key, {
          maxlen: nonNegativeInt(meta?.maxlen),
          maxAgeMs: nonNegativeInt(meta?.max_age_ms),
          until: now + POLICY_TTL_MS,
        });
      });
    }
    return this.policiesOf(keys, now);
  }

  private policiesOf(keys: string[], now: number): Map<string, TrimPolicy> {
    const out = new Map<string, TrimPolicy>();
    for (const key of keys) {
      const p = this.policies.get(key)!;
      const policy: TrimPolicy = { maxlen: p.maxlen ?? this.defaultMaxlen };
      if (p.maxAgeMs) policy.minId = `${Math.max(0, now - p.maxAgeMs)}-0`;
      out.set(key, policy);
    }
    return out;
  }
}
