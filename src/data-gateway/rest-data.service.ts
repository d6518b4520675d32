import { Injectable, UnsupportedMediaTypeException } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { AuthUser } from '../auth/auth-user';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../health/metrics.service';
import { compareIds, isEntryId, parseRangeBound } from '../redis/entry-id';
import { joinPayloads, RedisStreamsService, StreamEntry } from '../redis/redis-streams.service';
import { isoTimeOf } from '../streams/dto/stream-info.dto';
import { StreamError } from '../streams/stream-error';
import { parseStreamPath } from '../streams/stream-id';
import { StreamReaders } from '../streams/stream-readers.service';
import { EntryToWrite, StreamWriter } from '../streams/stream-writer.service';
import { MAX_HEADER_ITEMS } from './push-codec';
import { PullHeaderEncoder } from './pull-header';
import { readMultipart, readRawBody, UploadPart } from './rest-upload';

/**
 * Longest `x-offsets` value (and its `entry-offset` copy) a response carries: both together stay
 * under the 16 KiB of response headers that Node's HTTP client accepts by default (Python's
 * limit is 64 KiB per line). A batch that would need more is cut; its cursor says where it stopped.
 */
export const MAX_OFFSETS_HEADER = 6000;

export interface ReadOptions {
  /** `last_entry_id`; `*` = the newest `count` entries. */
  lastEntryId?: string;
  count: number;
  latest: boolean;
  blockMs: number;
}

/** What a read or range answers: the entries and the headers that describe them. */
export interface EntriesReply {
  entries: StreamEntry[];
  body: Buffer;
  /** `x-offsets`: `[[stream_id, entry_id, start_offset], ...]`. */
  offsets: string;
  /** `x-last-entry-id`: per stream joined by `+`, the cursor to send next time. */
  cursor: string;
}

export interface RangeEntry {
  id: string;
  time: string | null;
  data: string;
}

/** Entries of several streams as one sequence in id order (per-stream order is kept). */
export function inIdOrder(entries: StreamEntry[], streams: number): StreamEntry[] {
  return streams > 1 ? [...entries].sort((a, b) => compareIds(a.id, b.id)) : entries;
}

/** An inclusive range bound (id or time), or an exclusive `(id` as XRANGE takes it. */
function rangeBound(raw: string | undefined, side: 'start' | 'end'): string {
  if (raw === undefined) return side === 'start' ? '-' : '+';
  if (raw.startsWith('(') && isEntryId(raw.slice(1))) return raw;
  return parseRangeBound(raw, side);
}

/**
 * REST /data (PROTOCOL §5) over the shared pieces: reads on the read hub through StreamReaders
 * (a blocked GET holds no Redis connection of its own), writes through StreamWriter (atomic),
 * range reads with XRANGE.
 */
@Injectable()
export class RestDataService {
  private readonly maxBody: number;

  constructor(
    private readonly readers: StreamReaders,
    private readonly writer: StreamWriter,
    private readonly streams: RedisStreamsService,
    private readonly metrics: MetricsService,
    config: AppConfig,
  ) {
    this.maxBody = config.get('HTTP_MAX_BODY');
  }

  /** Entries after the cursors, waiting up to `blockMs` (or until `signal`) for the first. */
  async read(
    user: AuthUser,
    device: string,
    streamIds: string[],
    options: ReadOptions,
    signal: AbortSignal,
  ): Promise<EntriesReply> {
    const newest = options.lastEntryId === '*';
    const latest = options.latest || newest;
    const reader = await this.readers.open(user, device, streamIds, newest ? '0' : options.lastEntryId, {
      count: options.count,
      latest,
    });
    try {
      const cursors = [...reader.cursors];
      const batch = await reader.next(options.blockMs, signal);
      const names = new Map(reader.keys.map((key, i) => [key, streamIds[i]]));
      // Several streams: one id-ordered sequence, so a cut batch is fair to every stream.
      const sent = this.fit(inIdOrder(batch, streamIds.length), names, latest);
      // Sequential: after the last entry sent. Latest: after the newest seen (older ones are dropped).
      if (!latest) for (const e of sent) cursors[reader.keys.indexOf(e.key)] = e.id;
      const reply = this.reply(sent, names, (latest ? reader.cursors : cursors).join('+'));
      this.metrics.countPulled('rest', sent.length, reply.body.length);
      return reply;
    } finally {
      reader.close();
    }
  }

  /**
   * The longest run of entries whose offsets header and body fit (at least one entry): the
   * oldest in sequential mode, the newest with `latest` (which drops older ones anyway).
   */
  private fit(entries: StreamEntry[], names: Map<string, string>, latest: boolean): StreamEntry[] {
    let chars = 2;
    let bytes = 0;
    let n = 0;
    for (; n < entries.length; n++) {
      const e = entries[latest ? entries.length - 1 - n : n];
      chars += names.get(e.key)!.length + e.id.length + String(bytes).length + 10;
      bytes += e.data.length;
      if (n > 0 && (chars > MAX_OFFSETS_HEADER || bytes > this.maxBody)) break;
    }
    return latest ? entries.slice(entries.length - n) : entries.slice(0, n);
  }

  private reply(entries: StreamEntry[], names: Map<string, string>, cursor: string): EntriesReply {
    const offsets = new PullHeaderEncoder((key) => names.get(key)!, 'start').encode(entries).toString();
    const body = joinPayloads(entries);
    return { entries, body, offsets, cursor };
  }

  /** Entries of one stream between two ids or times, inclusive; 404 for a stream that does not exist. */
  async range(
    user: AuthUser,
    device: string,
    streamId: string,
    bounds: { start?: string; end?: string; count: number },
  ): Promise<EntriesReply> {
    const [key] = this.readers.readableKeys(user, device, [streamId]);
    const start = rangeBound(bounds.start, 'start');
    const end = rangeBound(bounds.end, 'end');
    const entries = await this.streams.range(key, start, end, bounds.count);
    if (entries.length === 0 && (await this.streams.info([key]))[0] === null) {
      throw new StreamError('NOT_FOUND', `no stream ${streamId}`);
    }
    const last = entries.length ? entries[entries.length - 1].id : '';
    const reply = this.reply(entries, new Map([[key, streamId]]), last);
    this.metrics.countPulled('rest', entries.length, reply.body.length);
    return reply;
  }

  static asJson(entries: StreamEntry[]): RangeEntry[] {
    return entries.map((e) => ({ id: e.id, time: isoTimeOf(e.id), data: e.data.toString('base64') }));
  }

  /**
   * Stores an upload atomically: a raw body is one entry of the (single) path stream; each
   * multipart part named `entries` is one entry, for the path stream, or for the stream its
   * filename names (path `*`, or one of the streams of an `a+b` path).
   */
  async upload(
    user: AuthUser,
    device: string,
    path: string,
    body: Readable,
    headers: IncomingHttpHeaders,
  ): Promise<string[]> {
    const parsed = parseStreamPath(path, 'push');
    const named = parsed.kind === 'list' ? parsed.ids : null;
    // Refuse a forbidden path stream before reading the body.
    if (named) this.writer.writableKeys(user, device, named);
    const type = (headers['content-type'] ?? 'application/octet-stream').toLowerCase();
    let entries: EntryToWrite[];
    if (type.startsWith('multipart/form-data')) {
      const parts = await readMultipart(body, headers, this.maxBody, MAX_HEADER_ITEMS);
      if (parts.length === 0) throw new StreamError('BAD_REQUEST', 'no part named entries in the upload');
      entries = parts.map((part) => ({ streamId: RestDataService.streamOf(part, named), id: null, data: part.data }));
    } else if (type.startsWith('application/octet-stream')) {
      if (!named || named.length !== 1) {
        throw new StreamError('BAD_REQUEST', 'a raw body is one entry of one stream; upload multipart for * or a+b');
      }
      entries = [{ streamId: named[0], id: null, data: await readRawBody(body, headers, this.maxBody) }];
    } else {
      throw new UnsupportedMediaTypeException(
        'send multipart/form-data (parts named entries) or application/octet-stream',
      );
    }
    return this.writer.write(user, device, entries, 'rest');
  }

  private static streamOf(part: UploadPart, named: string[] | null): string {
    if (named?.length === 1) return named[0];
    if (named === null) {
      if (!part.filename)
        throw new StreamError('BAD_REQUEST', 'on a * path every part needs a filename naming its stream');
      return part.filename;
    }
    if (!part.filename || !named.includes(part.filename)) {
      throw new StreamError(
        'BAD_REQUEST',
        `on an a+b path a part's filename names its stream: one of ${named.join(', ')}`,
      );
    }
    return part.filename;
  }
}
