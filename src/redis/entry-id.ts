/**
 * Redis stream entry ids (`<ms>-<seq>`, both unsigned 64-bit decimals) and the cursor forms a
 * client may send wherever an id is accepted (PROTOCOL §1). Pure: no Redis, no clock.
 */

/** 2^64 - 1: the largest ms and the largest seq of an entry id. */
export const MAX_SEQ = '18446744073709551615';

const U64_MAX = 18446744073709551615n;
const DIGITS = /^(?:0|[1-9][0-9]{0,19})$/;
const FULL_ID = /^(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})$/;
const ISO_TIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?(?:([Zz])|([+\- ])([0-9]{2})(?::?([0-9]{2}))?)?$/;

export class IdError extends Error {
  readonly code = 'BAD_ID' as const;
  override readonly name = 'IdError';
}

function quoted(value: string): string {
  // JSON quoting keeps CR/LF and other control characters out of logs and close reasons.
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

function fitsU64(digits: string): boolean {
  return digits.length < 20 || (digits.length === 20 && digits <= MAX_SEQ);
}

function isU64(s: string): boolean {
  return DIGITS.test(s) && fitsU64(s);
}

export function isEntryId(s: string): boolean {
  if (typeof s !== 'string') return false;
  const m = FULL_ID.exec(s);
  return m !== null && fitsU64(m[1]) && fitsU64(m[2]);
}

/**
 * An id a client may give a new entry: a valid id other than `0-0` whose millisecond part is below
 * the largest. Ids with that millisecond part would use up the stream's id space: once its last id
 * is the largest possible, Redis refuses every later entry, even one with an id chosen by Redis.
 */
export function isWritableId(s: string): boolean {
  return isEntryId(s) && s !== '0-0' && !s.startsWith(`${MAX_SEQ}-`);
}

// Decimal digit runs without leading zeros: the longer is larger, equal lengths compare
// character by character. No allocation, no BigInt: this runs once per entry.
function cmpDigits(a: string, as: number, ae: number, b: string, bs: number, be: number): number {
  const la = ae - as;
  const lb = be - bs;
  if (la !== lb) return la < lb ? -1 : 1;
  for (let i = 0; i < la; i++) {
    const ca = a.charCodeAt(as + i);
    const cb = b.charCodeAt(bs + i);
    if (ca !== cb) return ca < cb ? -1 : 1;
  }
  return 0;
}

/** Numeric order of two full ids (ms, then seq): -1, 0 or 1. An id without `-` counts as `ms-0`. */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  let da = a.indexOf('-');
  let db = b.indexOf('-');
  const ams = da < 0 ? a.length : da;
  const bms = db < 0 ? b.length : db;
  const c = cmpDigits(a, 0, ams, b, 0, bms);
  if (c !== 0) return c;
  let sa = a;
  let sb = b;
  if (da < 0) {
    sa = '0';
    da = -1;
  }
  if (db < 0) {
    sb = '0';
    db = -1;
  }
  return cmpDigits(sa, da + 1, sa.length, sb, db + 1, sb.length);
}

function split(id: string): [bigint, bigint] {
  const m = FULL_ID.exec(id);
  if (m === null || !fitsU64(m[1]) || !fitsU64(m[2])) throw new IdError(`bad entry id ${quoted(String(id))}`);
  return [BigInt(m[1]), BigInt(m[2])];
}

/** The smallest id greater than `id`. */
export function nextId(id: string): string {
  const [ms, seq] = split(id);
  if (seq < U64_MAX) return `${ms}-${seq + 1n}`;
  if (ms < U64_MAX) return `${ms + 1n}-0`;
  throw new IdError('no entry id after the maximum id');
}

/** The largest id smaller than `id`. */
export function prevId(id: string): string {
  const [ms, seq] = split(id);
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  if (ms > 0n) return `${ms - 1n}-${MAX_SEQ}`;
  throw new IdError('no entry id before 0-0');
}

/** The ms part as a number (exact up to 2^53, which covers every real clock time). */
export function idTime(id: string): number {
  const dash = id.indexOf('-');
  const ms = dash < 0 ? id : id.slice(0, dash);
  if (!isU64(ms)) throw new IdError(`bad entry id ${quoted(String(id))}`);
  return Number(ms);
}

/** ISO-8601 UTC of the ms part. Ids beyond year 275760 (explicit ids only) throw IdError. */
export function idToIso(id: string): string {
  const ms = idTime(id);
  if (ms > 8.64e15) throw new IdError(`entry id ${quoted(id)} is beyond the representable time range`);
  return new Date(ms).toISOString();
}

// ms since the epoch, or -1 when `s` is not an ISO-8601 date-time. A time without a zone is
// read as UTC: the service's result must not depend on the host's time zone. A space where
// the zone sign belongs is a `+` that was sent unencoded in a query string.
function isoToMs(s: string): number {
  const m = ISO_TIME.exec(s);
  if (m === null) return -1;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const milli = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return -1;
  let offset = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = m[11] === undefined ? 0 : Number(m[11]);
    if (oh > 23 || om > 59) return -1;
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const d = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  d.setUTCFullYear(year, month - 1, day);
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return -1;
  d.setUTCHours(hour, minute, second, milli);
  const t = d.getTime() - offset;
  return t >= 0 ? t : -1;
}

// The ms of a bare millisecond timestamp or ISO time, as a decimal string; null if neither.
function timeMs(input: string): string | null {
  if (isU64(input)) return input;
  const t = isoToMs(input);
  return t >= 0 ? String(t) : null;
}

export type Cursor = { kind: 'start' } | { kind: 'end' } | { kind: 'id'; id: string };

/**
 * A read cursor: the reader gets the entries AFTER it (exclusive, as XREAD does).
 * `0` = from the beginning, `$` = after the newest entry (resolved by Redis when the read
 * starts), `ms-seq` = after that id. A time (bare ms or ISO-8601) means "the entries AT or after
 * that time", so it becomes the exclusive id just before `ms-0`, i.e. `(ms-1)-MAX_SEQ`.
 */
export function parseCursor(input: string): Cursor {
  if (typeof input !== 'string') throw new IdError('entry id must be a string');
  if (input === '0') return { kind: 'start' };
  if (input === '$') return { kind: 'end' };
  if (isEntryId(input)) return { kind: 'id', id: input };
  const ms = timeMs(input);
  if (ms === null) throw new IdError(`bad entry id or time ${quoted(input)}`);
  if (ms === '0') return { kind: 'start' };
  return { kind: 'id', id: prevId(`${ms}-0`) };
}

/** The exclusive id to read after (XREAD), or null for `$` (left to Redis). */
export function cursorToExclusiveId(c: Cursor): string | null {
  switch (c.kind) {
    case 'start':
      return '0-0';
    case 'end':
      return null;
    case 'id':
      return c.id;
  }
}

/**
 * An inclusive XRANGE bound: `-` / `+` and full ids as given; a time covers its whole
 * millisecond (`ms-0` as a start, `ms-MAX_SEQ` as an end).
 */
export function parseRangeBound(input: string, side: 'start' | 'end'): string {
  if (typeof input !== 'string') throw new IdError('range bound must be a string');
  if (input === '-' || input === '+' || isEntryId(input)) return input;
  const ms = timeMs(input);
  if (ms === null) throw new IdError(`bad range bound ${quoted(input)}`);
  return side === 'start' ? `${ms}-0` : `${ms}-${MAX_SEQ}`;
}
