import { Connection, query, streamPath } from './connection';
import { decodeMessage, Entry, Payload, toBytes } from './entries';
import { StreamerError } from './errors';

/** Options of `get` (PROTOCOL §5 `GET /data/{stream_id}`). */
export interface GetOptions {
  /** Entries after this cursor: `$` (default), `0`, an id, a time, `*` (the newest); one per stream joined by `+`. */
  lastEntryId?: string;
  /** Entries per stream (1–10000, default 1). */
  count?: number;
  /** Only the newest `count` after the cursor. */
  latest?: boolean;
  /** Wait up to this many ms for the first entry (default 500, max 30000). */
  block?: number;
  deviceId?: string;
}

/** What `get` answers: the entries and the cursor to send as `lastEntryId` next time. */
export interface GetResult {
  entries: Entry[];
  cursor: string;
}

/** Options of `range` (`GET /data/{stream_id}/range`). */
export interface RangeOptions {
  /** First id or time, inclusive (`(id` excludes it); default the oldest. */
  start?: string;
  /** Last id or time, inclusive; default the newest. */
  end?: string;
  /** At most this many entries (default 1000). */
  count?: number;
  deviceId?: string;
}

/** The payloads of a response body with its `x-offsets` header as entries. */
async function entriesOf(res: Response): Promise<Entry[]> {
  const offsets = res.headers.get('x-offsets');
  if (res.status === 204 || !offsets) return [];
  return decodeMessage(offsets, new Uint8Array(await res.arrayBuffer()));
}

/** One long-poll read of `GET /data/{stream_ids}`. */
export async function getEntries(conn: Connection, streamIds: string, opts: GetOptions = {}): Promise<GetResult> {
  const q = query({
    last_entry_id: opts.lastEntryId,
    count: opts.count,
    latest: opts.latest,
    block: opts.block,
    device_id: opts.deviceId,
  });
  const res = await conn.request(`/data/${streamPath(streamIds)}${q}`);
  const entries = await entriesOf(res);
  return { entries, cursor: res.headers.get('x-last-entry-id') ?? '' };
}

/** Stores entries atomically with `POST /data/{stream_id}` (multipart, byte for byte); answers the new ids. */
export async function postEntries(
  conn: Connection,
  streamId: string,
  entries: Payload[],
  opts: { deviceId?: string } = {},
): Promise<string[]> {
  if (entries.length === 0) throw new StreamerError('post needs at least one entry');
  const form = new FormData();
  // A part with a filename is stored as its bytes; the filename is ignored on a one-stream path.
  // `slice` copies into a plain ArrayBuffer, which is what Blob takes (a Buffer may sit in a shared pool).
  for (const e of entries) form.append('entries', new Blob([toBytes(e).slice()]), streamId);
  const res = await conn.request(`/data/${streamPath(streamId)}${query({ device_id: opts.deviceId })}`, {
    method: 'POST',
    body: form,
  });
  return (await res.json()) as string[];
}

/** Entries of one stream between two ids or times (`GET /data/{stream_id}/range`, binary). */
export async function rangeEntries(conn: Connection, streamId: string, opts: RangeOptions = {}): Promise<Entry[]> {
  const q = query({ start: opts.start, end: opts.end, count: opts.count, device_id: opts.deviceId });
  const res = await conn.request(`/data/${streamPath(streamId)}/range${q}`, {
    headers: { Accept: 'application/octet-stream' },
  });
  return entriesOf(res);
}
