import { Cursor, cursorToExclusiveId } from '../redis/entry-id';
import { StreamEntry } from '../redis/redis-streams.service';
import { ReadHub } from './read-hub.service';

export interface ReaderOptions {
  /** Entries per stream per batch. */
  count: number;
  /** Frame dropping: only the newest `count` entries after the cursor. */
  latest: boolean;
}

/**
 * One reader's cursors over one or more streams, served by the read hub. Shared by every
 * transport (WebSocket pull, REST long-poll, SSE, GraphQL), so cursor rules live in one place:
 * cursors only move forward, by numeric id, to the last entry handed out.
 */
export class StreamReader {
  private attached = false;

  private constructor(
    private readonly hub: ReadHub,
    readonly keys: string[],
    readonly cursors: string[],
    private readonly options: ReaderOptions,
  ) {}

  /** Resolves the cursors (`$` by Redis) and starts following the streams. */
  static async open(hub: ReadHub, keys: string[], cursors: Cursor[], options: ReaderOptions): Promise<StreamReader> {
    const exclusive = cursors.map(cursorToExclusiveId);
    const ends = exclusive.includes(null) ? await hub.endIds(keys.filter((_, i) => exclusive[i] === null)) : [];
    let e = 0;
    const resolved = exclusive.map((id) => id ?? ends[e++]);
    const reader = new StreamReader(hub, keys, resolved, options);
    await hub.attach(keys);
    reader.attached = true;
    return reader;
  }

  /** Entries available now (possibly none), advancing the cursors. */
  async poll(): Promise<StreamEntry[]> {
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

  /** The next non-empty batch, or an empty one when `timeoutMs` passes or `signal` aborts first. */
  async next(timeoutMs: number, signal?: AbortSignal): Promise<StreamEntry[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const batch = await this.poll();
      const left = deadline - Date.now();
      if (batch.length > 0 || left <= 0 || signal?.aborted || !this.hub.active) return batch;
      await this.hub.wait(this.keys, this.cursors, left, signal);
    }
  }

  close(): void {
    if (!this.attached) return;
    this.attached = false;
    this.hub.detach(this.keys);
  }
}
