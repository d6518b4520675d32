/**
 * The WebSocket push header (PROTOCOL §3) and the pull header (§4): parsing, offset resolution
 * and blob slicing. Pure: the gateway feeds it frames and gets entries back.
 */
import { compareIds, isWritableId } from '../redis/entry-id';
import { isValidStreamId } from '../streams/stream-id';

export type CodecErrorCode = 'BAD_HEADER' | 'BAD_OFFSETS' | 'BAD_ID' | 'BAD_STREAM_ID';

export class CodecError extends Error {
  override readonly name = 'CodecError';

  constructor(
    readonly code: CodecErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** WebSocket close code for a codec error: 1007 malformed data, 1008 policy (ids). */
export function closeCodeFor(code: CodecErrorCode): number {
  return code === 'BAD_HEADER' || code === 'BAD_OFFSETS' ? 1007 : 1008;
}

export type OffsetsMode = 'auto' | 'start' | 'end';

export interface HeaderItem {
  /** null: the path stream(s). */
  streamId: string | null;
  /** null: an id chosen by Redis (`*`). */
  id: string | null;
  offset: number;
}

export interface PlannedEntry {
  streamId: string;
  id: string | null;
  start: number;
  end: number;
}

export const MAX_HEADER_CHARS = 4 * 1024 * 1024;
export const MAX_HEADER_ITEMS = 100_000;

const COMMA_NUMBER = /^[0-9]{1,16}$/;

function short(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

function offsetOf(v: unknown, i: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new CodecError('BAD_HEADER', `offset #${i + 1} is not a non-negative integer`);
  }
  return v + 0; // -0 (valid JSON) becomes 0
}

function rowOf(row: unknown, i: number): HeaderItem {
  if (!Array.isArray(row) || (row.length !== 2 && row.length !== 3)) {
    throw new CodecError(
      'BAD_HEADER',
      `header row #${i + 1} must be [stream_id, offset] or [stream_id, entry_id, offset]`,
    );
  }
  const sid: unknown = row[0];
  if (typeof sid !== 'string') throw new CodecError('BAD_HEADER', `header row #${i + 1}: stream id must be a string`);
  if (!isValidStreamId(sid)) throw new CodecError('BAD_STREAM_ID', `bad stream id ${short(sid)}`);
  let id: string | null = null;
  if (row.length === 3) {
    const raw: unknown = row[1];
    if (typeof raw === 'string') {
      if (raw !== '*') {
        if (!isWritableId(raw)) throw new CodecError('BAD_ID', `bad entry id ${short(raw)}`);
        id = raw;
      }
    } else if (typeof raw === 'number') {
      throw new CodecError('BAD_ID', `header row #${i + 1}: entry id must be a "ms-seq" string`);
    } else if (raw !== null) {
      throw new CodecError('BAD_HEADER', `header row #${i + 1}: entry id must be a string or null`);
    }
  }
  return { streamId: sid, id, offset: offsetOf(row[row.length - 1], i) };
}

function parseJsonHeader(text: string): HeaderItem[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new CodecError('BAD_HEADER', 'header is not valid JSON');
  }
  if (!Array.isArray(v)) throw new CodecError('BAD_HEADER', 'header must be a JSON array');
  if (v.length === 0) throw new CodecError('BAD_HEADER', 'empty header');
  if (v.length > MAX_HEADER_ITEMS) throw new CodecError('BAD_HEADER', `header has more than ${MAX_HEADER_ITEMS} items`);
  const out = new Array<HeaderItem>(v.length);
  if (Array.isArray(v[0])) {
    for (let i = 0; i < v.length; i++) out[i] = rowOf(v[i], i);
  } else {
    for (let i = 0; i < v.length; i++) {
      if (Array.isArray(v[i])) throw new CodecError('BAD_HEADER', 'header mixes offsets and rows');
      out[i] = { streamId: null, id: null, offset: offsetOf(v[i], i) };
    }
  }
  return out;
}

// PTG's text form: "0,100,256" (or a single "512").
function parseCommaHeader(text: string): HeaderItem[] {
  const parts = text.split(',');
  if (parts.length > MAX_HEADER_ITEMS)
    throw new CodecError('BAD_HEADER', `header has more than ${MAX_HEADER_ITEMS} items`);
  const out = new Array<HeaderItem>(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const t = parts[i].trim();
    if (!COMMA_NUMBER.test(t)) {
      throw new CodecError('BAD_HEADER', 'header must be a JSON array or comma-separated offsets');
    }
    const n = Number(t);
    if (!Number.isSafeInteger(n)) throw new CodecError('BAD_HEADER', `offset #${i + 1} is too large`);
    out[i] = { streamId: null, id: null, offset: n };
  }
  return out;
}

/** Parses a push header text frame. Throws CodecError, and nothing else, on any bad input. */
export function parsePushHeader(text: string): HeaderItem[] {
  try {
    if (typeof text !== 'string') throw new CodecError('BAD_HEADER', 'header must be text');
    if (text.length > MAX_HEADER_CHARS) throw new CodecError('BAD_HEADER', 'header too long');
    const first = text.search(/\S/);
    if (first < 0) throw new CodecError('BAD_HEADER', 'empty header');
    return text[first] === '[' ? parseJsonHeader(text) : parseCommaHeader(text);
  } catch (e) {
    if (e instanceof CodecError) throw e;
    throw new CodecError('BAD_HEADER', 'unreadable header');
  }
}

interface StreamState {
  last: string | null;
  auto: boolean;
}

/**
 * Resolves each header item to a stream, an id and a [start, end) slice of the blob.
 * Items without a stream go to the path stream (one path stream: all of them; k path streams:
 * exactly k items, one per stream in path order). Offsets are start offsets (first is 0, the last
 * entry runs to the end of the blob) or end offsets (cumulative; the last equals the blob
 * length); `auto` reads a list starting with 0 as start offsets.
 */
export function planEntries(
  items: HeaderItem[],
  blobLength: number,
  pathStreams: string[] | null,
  mode: OffsetsMode,
): PlannedEntry[] {
  try {
    return resolvePlan(items, blobLength, pathStreams, mode);
  } catch (e) {
    if (e instanceof CodecError) throw e;
    throw new CodecError('BAD_HEADER', 'unreadable header');
  }
}

function resolvePlan(
  items: HeaderItem[],
  blobLength: number,
  pathStreams: string[] | null,
  mode: OffsetsMode,
): PlannedEntry[] {
  if (!Array.isArray(items) || items.length === 0) throw new CodecError('BAD_HEADER', 'empty header');
  const n = items.length;
  if (n > MAX_HEADER_ITEMS) throw new CodecError('BAD_HEADER', `header has more than ${MAX_HEADER_ITEMS} items`);
  if (!Number.isSafeInteger(blobLength) || blobLength < 0) throw new CodecError('BAD_OFFSETS', 'bad blob length');
  if (mode !== 'auto' && mode !== 'start' && mode !== 'end') {
    throw new CodecError('BAD_OFFSETS', 'offsets must be auto, start or end');
  }

  let unnamed = 0;
  for (let i = 0; i < n; i++) if (items[i].streamId == null) unnamed++;
  if (unnamed > 0) {
    if (pathStreams === null) throw new CodecError('BAD_HEADER', 'header must name streams on a * path');
    if (pathStreams.length === 0) throw new CodecError('BAD_HEADER', 'no path stream for the header');
    if (pathStreams.length > 1 && (unnamed !== n || n !== pathStreams.length)) {
      throw new CodecError(
        'BAD_HEADER',
        `a flat header for ${pathStreams.length} path streams must list exactly ${pathStreams.length} offsets`,
      );
    }
  }

  const streams = new Array<string>(n);
  const state = new Map<string, StreamState>();
  for (let i = 0; i < n; i++) {
    const named = items[i].streamId;
    const sid = named ?? (pathStreams!.length === 1 ? pathStreams![0] : pathStreams![i]);
    if (!state.has(sid)) {
      if (!isValidStreamId(sid)) throw new CodecError('BAD_STREAM_ID', `bad stream id ${short(String(sid))}`);
      state.set(sid, { last: null, auto: false });
    }
    streams[i] = sid;
  }

  const offsets = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const o = items[i].offset;
    if (typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0) {
      throw new CodecError('BAD_OFFSETS', `offset #${i + 1} is not a non-negative integer`);
    }
    if (o > blobLength) {
      throw new CodecError('BAD_OFFSETS', `offset ${o} is beyond the end of the ${blobLength}-byte blob`);
    }
    if (i > 0 && o < offsets[i - 1]) throw new CodecError('BAD_OFFSETS', 'offsets must be non-decreasing');
    offsets[i] = o;
  }
  const useStart = mode === 'start' || (mode === 'auto' && offsets[0] === 0);
  if (useStart) {
    if (offsets[0] !== 0) throw new CodecError('BAD_OFFSETS', 'the first start offset must be 0');
  } else if (offsets[n - 1] !== blobLength) {
    throw new CodecError(
      'BAD_OFFSETS',
      `the last end offset (${offsets[n - 1]}) must equal the blob length (${blobLength})` +
        (mode === 'auto' ? '; offsets not starting with 0 are end offsets' : ''),
    );
  }

  // Per stream, ids are all explicit (strictly increasing) or all auto. A mixed batch cannot be
  // checked before it is written: the id Redis would pick for `*` is not known in advance, so an
  // explicit id after it might turn out too small half-way through the batch.
  const out = new Array<PlannedEntry>(n);
  for (let i = 0; i < n; i++) {
    const sid = streams[i];
    const st = state.get(sid)!;
    const id = items[i].id ?? null;
    if (id !== null) {
      if (typeof id !== 'string' || !isWritableId(id)) {
        throw new CodecError('BAD_ID', `bad entry id ${short(String(id))}`);
      }
      if (st.auto) throw new CodecError('BAD_HEADER', `stream ${short(sid)} mixes explicit and auto ids in one batch`);
      if (st.last !== null && compareIds(id, st.last) <= 0) {
        throw new CodecError('BAD_ID', `entry ids of stream ${short(sid)} must increase: ${id} after ${st.last}`);
      }
      st.last = id;
    } else {
      if (st.last !== null)
        throw new CodecError('BAD_HEADER', `stream ${short(sid)} mixes explicit and auto ids in one batch`);
      st.auto = true;
    }
    const start = useStart ? offsets[i] : i === 0 ? 0 : offsets[i - 1];
    const end = useStart ? (i + 1 < n ? offsets[i + 1] : blobLength) : offsets[i];
    out[i] = { streamId: sid, id, start, end };
  }
  return out;
}

/** The entries' payloads as views into the blob (no copy). */
export function splitBlob(blob: Buffer, plan: PlannedEntry[]): Buffer[] {
  const out = new Array<Buffer>(plan.length);
  for (let i = 0; i < plan.length; i++) {
    const { start, end } = plan[i];
    if (!(start >= 0 && start <= end && end <= blob.length)) {
      throw new CodecError('BAD_OFFSETS', `slice ${start}..${end} is outside the ${blob.length}-byte blob`);
    }
    out[i] = blob.subarray(start, end);
  }
  return out;
}
