import { Cursor, cursorToExclusiveId } from '../redis/entry-id';
import { StreamEntry } from '../redis/redis-streams.service';
import { CREATED_EVENTS } from '../redis/scripts';
import { ReadHub } from './read-hub.service';

export interface ReaderOptions {
  /** Entries per stream per batch. */
  count: number;
  /** Frame dropping: only the newest `count` entries after the cursor. */
  latest: boolean;
}

/** For device-wide and glob readers: which newly created keys to follow. */
export interface Discovery {
  /** Cursor on the stream-creation events, taken before the initial listing. */
  after: string;
  accept: (key: string) => boolean;
}

/**
 * One reader's cursors over one or more streams, served by the read hub. Shared by every
 * transport (WebSocket pull, REST long-poll, SSE, GraphQL), so cursor rules live in one place:
 * cursors only move forward, by numeric id, to the last entry handed out. With `discovery`, streams
 * created after the reader opened join it (read from their first entry) as their creation is seen.
 */
export class StreamReader {
  private attached: string[] = [];
  private discovery?: Discovery;

  private constructor(
    private readonly hub: ReadHub,
    readonly keys: string[],
    readonly cursors: string[],
    private readonly options: ReaderOptions,
  ) {}

  /** Resolves the cursors (`$` by Redis) and starts following the streams. */
  static async open(
    hub: ReadHub,
    keys: string[],
    cursors: Cursor[],
    options: ReaderOptions,
    discovery?: Discovery,
  ): Promise<StreamReader> {
    const exclusive = cursors.map(cursorToExclusiveId);
    const ends = exclusive.includes(null) ? await hub.endIds(keys.filter((_, i) => exclusive[i] === null)) : [];
    let e = 0;
    const resolved = exclusive.map((id) => id ?? ends[e++]);
    const reader = new StreamReader(hub, [...keys], resolved, options);
    const follow = discovery ? [...keys, CREATED_EVENTS] : keys;
    await hub.attach(follow);
    reader.attached = follow;
    reader.discovery = discovery;
    return reader;
  }

  /** Entries available now (possibly none), advancing the cursors. */
  async poll(): Promise<StreamEntry[]> {
    if (this.discovery) await this.discover(this.discovery);
    const { count, latest } = this.options;
    const parts = await Promise.all(
      this.keys.map((key, i) =>
        latest ? this.hub.latest(key, this.cursors[i], count) : this.hub.fetch(key, this.cursors[i], count),
      ),
    );
    const out: StreamEntry[] = [];
    parts.forEach((entries, i) => {
      if (entries.length === 0) return;
      this.cursors[i] = entries[entries.length - 1].id;
      for (const e of entries) out.push(e);
    });
    return out;
  }

  private async discover(discovery: Discovery): Promise<void> {
    const events = await this.hub.fetch(CREATED_EVENTS, discovery.after, 1000);
    if (events.length === 0) return;
    discovery.after = events[events.length - 1].id;
    const fresh = [...new Set(events.map((e) => e.data.toString()))].filter(
      (key) => !this.keys.includes(key) && discovery.accept(key),
    );
    if (fresh.length === 0) return;
    await this.hub.attach(fresh);
    for (const key of fresh) {
      this.keys.push(key);
      this.cursors.push('0-0');
      this.attached.push(key);
    }
  }

  /** The next non-empty batch, or an empty one when `timeoutMs` passes or `signal` aborts first. */
  async next(timeoutMs: number, signal?: AbortSignal): Promise<StreamEntry[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const batch = await this.poll();
      const left = deadline - Date.now();
      if (batch.length > 0 || left <= 0 || signal?.aborted || !this.hub.active) return batch;
      const keys = this.discovery ? [...this.keys, CREATED_EVENTS] : this.keys;
      const cursors = this.discovery ? [...this.cursors, this.discovery.after] : this.cursors;
      await this.hub.wait(keys, cursors, left, signal);
    }
  }

  close(): void {
    this.hub.detach(this.attached);
    this.attached = [];
  }
}
