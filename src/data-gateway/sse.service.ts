import { Injectable, Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { AuthUser } from '../auth/auth-user';
import { MetricsService } from '../health/metrics.service';
import { StreamPath } from '../streams/stream-id';
import { StreamKeys } from '../streams/stream-keys.service';
import { StreamReaders } from '../streams/stream-readers.service';
import { inIdOrder } from './rest-data.service';
import { RequestLifetimes } from './request-lifetimes.service';
import { KEEP_ALIVE, RETRY_MS, SSE_HEADERS, SseEncoding, sseEvent } from './sse-format';

export interface SseOptions {
  /** The `Last-Event-ID` header of a reconnecting browser: wins over `last_entry_id`. */
  lastEventId?: string;
  lastEntryId?: string;
  count: number;
  latest: boolean;
  encoding: SseEncoding;
  heartbeatMs: number;
}

/** Resolves once `res` can take more (or the stream is over): a slow client waits, data stays in Redis. */
function write(res: ServerResponse, chunk: string, signal: AbortSignal): Promise<void> {
  if (res.write(chunk) || signal.aborted) return Promise.resolve();
  return new Promise((done) => {
    const go = (): void => {
      res.off('drain', go);
      signal.removeEventListener('abort', go);
      done();
    };
    res.once('drain', go);
    signal.addEventListener('abort', go, { once: true });
  });
}

/**
 * `GET /data/{stream_id}/events` (PROTOCOL §5): a reader on the read hub written out as Server-Sent
 * Events. Each event's `id:` is the reader's cursor after it (the entry id for one stream; the
 * per-stream cursors joined by `+` for several, with `event:` naming the stream), so
 * `Last-Event-ID` resumes exactly after the last event the browser got.
 */
@Injectable()
export class SseService {
  private readonly logger = new Logger(SseService.name);

  constructor(
    private readonly readers: StreamReaders,
    private readonly lifetimes: RequestLifetimes,
    private readonly metrics: MetricsService,
    private readonly keys: StreamKeys,
  ) {}

  /** Errors before the first byte (bad cursor, forbidden stream, Redis down) are thrown to the caller. */
  async stream(
    user: AuthUser,
    device: string,
    path: StreamPath,
    options: SseOptions,
    res: ServerResponse,
  ): Promise<void> {
    const lifetime = this.lifetimes.track(res);
    const { signal } = lifetime;
    try {
      const reader = await this.readers.openPath(user, device, path, options.lastEventId ?? options.lastEntryId, {
        count: options.count,
        latest: options.latest,
        readAhead: true,
      });
      try {
        res.writeHead(200, SSE_HEADERS);
        res.write(`retry: ${RETRY_MS}\n\n`);
        // A `*` or glob reader's streams change as they are created: its events carry the entry id
        // alone (one cursor for all streams on resume) and are named by their stream.
        const wildcard = path.kind !== 'list';
        const streamIds = path.kind === 'list' ? path.ids : [];
        const multi = wildcard || streamIds.length > 1;
        const position = new Map(reader.keys.map((key, i) => [key, i]));
        while (!signal.aborted) {
          const cursors = [...reader.cursors];
          const batch = await reader.next(options.heartbeatMs, signal);
          if (signal.aborted) break;
          if (batch.length === 0) {
            await write(res, KEEP_ALIVE, signal);
            continue;
          }
          let text = '';
          let bytes = 0;
          for (const e of inIdOrder(batch, multi ? 2 : 1)) {
            if (wildcard) {
              text += sseEvent(e.id, e.data, options.encoding, this.keys.streamId(e.key, device));
            } else {
              const i = position.get(e.key)!;
              cursors[i] = e.id;
              text += sseEvent(
                multi ? cursors.join('+') : e.id,
                e.data,
                options.encoding,
                multi ? streamIds[i] : undefined,
              );
            }
            bytes += e.data.length;
          }
          this.metrics.countPulled('sse', batch.length, bytes);
          await write(res, text, signal);
        }
      } catch (err) {
        // Mid-stream (e.g. Redis gone): end the stream; the browser reconnects with Last-Event-ID.
        if (!signal.aborted) this.logger.warn(`event stream ended: ${(err as Error).message}`);
      } finally {
        reader.close();
        res.end();
      }
    } finally {
      lifetime.release();
    }
  }
}
