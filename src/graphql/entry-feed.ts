import { Logger } from '@nestjs/common';
import { isRedisUnavailable } from '../common/http-error.filter';
import { StreamEntry } from '../redis/redis-streams.service';
import { StreamReader } from '../streams/stream-reader';

/** What a feed reads from (a StreamReader). */
export type EntrySource = Pick<StreamReader, 'next' | 'close'>;

const WAIT_MS = 5000;
const RETRY_MS = 1000;
const logger = new Logger('EntryFeed');

/**
 * A subscription's event stream: entries from a reader on the read hub, one at a time. `return()`
 * (the client completed, or the socket closed) aborts a pending wait and closes the reader at once.
 */
export class EntryFeed<T> implements AsyncIterableIterator<T> {
  private readonly abort = new AbortController();
  private batch: T[] = [];
  private index = 0;
  private done = false;

  constructor(
    private readonly source: EntrySource,
    private readonly map: (entry: StreamEntry) => T,
    /** False once the service is shutting down: the feed ends. */
    private readonly live: () => boolean,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    while (this.index >= this.batch.length) {
      if (this.done || !this.live()) return this.finish();
      let entries: StreamEntry[];
      try {
        entries = await this.source.next(WAIT_MS, this.abort.signal);
      } catch (err) {
        if (!isRedisUnavailable(err)) {
          this.finish();
          throw err;
        }
        logger.warn(`subscription read failed: ${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, RETRY_MS));
        continue;
      }
      if (this.done) return this.finish();
      this.batch = entries.map(this.map);
      this.index = 0;
    }
    return { done: false, value: this.batch[this.index++] };
  }

  async return(): Promise<IteratorResult<T>> {
    return this.finish();
  }

  async throw(err: unknown): Promise<IteratorResult<T>> {
    this.finish();
    throw err;
  }

  private finish(): IteratorResult<T> {
    if (!this.done) {
      this.done = true;
      this.abort.abort();
      this.source.close();
      this.batch = [];
    }
    return { done: true, value: undefined };
  }
}
