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
  /** Keys whose settings are being fetched again in the background. */
  private readonly refreshing = new Set<string>();
  /** Moves on every set()/delete(), so that a read begun before one is not cached. */
  private epoch = 0;

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
    this.epoch++;
    this.policies.delete(key);
    return next;
  }

  async delete(key: string): Promise<void> {
    await this.connections.command.del(this.keys.metaKey(key));
    this.epoch++;
    this.policies.delete(key);
  }

  /**
   * Retention for each key when all are cached, else null (no waiting). Settings older than the
   * cache time are still used, and fetched again in the background: writes never wait for a
   * refresh, and a change made elsewhere applies within about POLICY_TTL_MS.
   */
  cachedPolicies(keys: string[]): Map<string, TrimPolicy> | null {
    const now = Date.now();
    let stale: string[] | undefined;
    for (const key of keys) {
      const p = this.policies.get(key);
      if (!p) return null;
      if (p.until < now && !this.refreshing.has(key)) (stale ??= []).push(key);
    }
    if (stale) {
      for (const key of stale) this.refreshing.add(key);
      this.load(stale)
        .catch(() => undefined)
        .finally(() => {
          for (const key of stale) this.refreshing.delete(key);
        });
    }
    return this.policiesOf(keys, now);
  }

  /** Retention for each key, from a short-lived cache (one MGET for the keys not cached). */
  async trimPolicies(keys: string[]): Promise<Map<string, TrimPolicy>> {
    const now = Date.now();
    const stale = keys.filter((k) => (this.policies.get(k)?.until ?? 0) < now);
    if (stale.length) await this.load(stale);
    return this.policiesOf(keys, now);
  }

  /** Reads and caches the settings of `keys`, unless a change made here raced with the read. */
  private async load(keys: string[]): Promise<void> {
    const epoch = this.epoch;
    const metas = await this.get(keys);
    if (epoch !== this.epoch) {
      // set()/delete() ran meanwhile: what was read may predate it; read again.
      return this.load(keys);
    }
    const until = Date.now() + POLICY_TTL_MS;
    keys.forEach((key, i) => {
      const meta = metas[i];
      this.policies.set(key, {
        maxlen: nonNegativeInt(meta?.maxlen),
        maxAgeMs: nonNegativeInt(meta?.max_age_ms),
        until,
      });
    });
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
