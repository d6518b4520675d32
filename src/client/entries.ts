import { idTime } from '../redis/entry-id';

/** One stream entry as the client hands it out. */
export interface Entry {
  /** Stream id, without the device prefix. */
  streamId: string;
  /** Redis entry id `<ms>-<seq>`. */
  id: string;
  /** Milliseconds since the epoch, from the id. */
  time: number;
  /** The payload bytes (a Buffer in Node). */
  data: Uint8Array;
}

/** What a payload may be given as: bytes, or text (stored as UTF-8). */
export type Payload = Uint8Array | string;

const utf8 = new TextEncoder();

/** The bytes of a payload. */
export function toBytes(data: Payload): Uint8Array {
  return typeof data === 'string' ? utf8.encode(data) : data;
}

/** The parts back to back in one array. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A push batch on the wire: the text header (start offsets) and the binary blob. */
export interface EncodedBatch {
  header: string;
  blob: Uint8Array;
}

/**
 * Encodes payloads as one push batch: a JSON array of **start** offsets (the first is 0, each
 * entry runs to the next offset, the last to the end of the blob) and the payloads back to back.
 * Send it with `offsets=start` so that a batch of empty payloads is not misread as end offsets.
 */
export function encodeBatch(payloads: Uint8Array[]): EncodedBatch {
  if (payloads.length === 0) throw new RangeError('a batch needs at least one entry');
  const offsets: number[] = [];
  let at = 0;
  for (const p of payloads) {
    offsets.push(at);
    at += p.length;
  }
  return { header: JSON.stringify(offsets), blob: concatBytes(payloads) };
}

/** A pull header row: `[stream_id, entry_id, start_offset]`. */
type HeaderRow = [string, string, number];

function isHeaderRow(row: unknown): row is HeaderRow {
  return (
    Array.isArray(row) &&
    typeof row[0] === 'string' &&
    typeof row[1] === 'string' &&
    typeof row[2] === 'number' &&
    Number.isSafeInteger(row[2])
  );
}

/**
 * Splits a pull message (text header `[[stream_id, entry_id, start_offset], ...]` + binary blob,
 * or REST's `x-offsets` + body) into entries. Subarrays: no payload is copied.
 */
export function decodeMessage(header: string, blob: Uint8Array): Entry[] {
  const rows: unknown = JSON.parse(header);
  if (!Array.isArray(rows) || !rows.every(isHeaderRow)) throw new SyntaxError('malformed pull header');
  return rows.map(([streamId, id, start], i) => {
    const end = i + 1 < rows.length ? rows[i + 1][2] : blob.length;
    if (start < 0 || end < start || end > blob.length) throw new SyntaxError('pull header offsets outside the blob');
    return { streamId, id, time: idTime(id), data: blob.subarray(start, end) };
  });
}
