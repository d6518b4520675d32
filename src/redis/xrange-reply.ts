import type { StreamEntry } from './redis-streams.service';

/** One command waiting for its reply: an XRANGE of `key`, or (key null) one answered with a status. */
export interface PendingReply {
  key: string | null;
  done(reply: StreamEntry[] | string | Error): void;
}

/** An error reply of Redis (`-ERR ...`): the command failed, the connection is fine. */
export class RedisReplyError extends Error {
  override readonly name = 'ReplyError';
}

/** Bytes that are not RESP where RESP was due: the connection can't be trusted any more. */
export class RedisProtocolError extends Error {
  override readonly name = 'RedisProtocolError';
}

/** Most payload bytes one page buffer holds. */
const PAGE_BYTES = 1024 * 1024;
/** Fewest bytes of a new chunk joined to an incomplete unit, so a split header line is not retried byte by byte. */
const MIN_TAKE = 1024;
const INCOMPLETE = -1;
/** A negative length: a nil (`*-1`, `$-1`). */
const NIL = -2;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Reads the replies of one Redis connection that sends XRANGE (and status commands such as AUTH)
 * in RESP2, straight into stream entries. Unlike a general parser it makes no array per entry and
 * no buffer per field, and copies each payload once, into a page buffer shared by the entries of
 * a reply: payloads that follow each other in the stream lie back to back in memory, so a message
 * of several entries can be sent without concatenating them (see `joinPayloads`).
 *
 * Replies are taken apart in units (a reply's first line, one entry, a status line) parsed from
 * contiguous bytes; a unit cut by a chunk boundary is completed from as few bytes of the next
 * chunk as it needs. Chunks may be reused by the caller after `feed` returns: nothing keeps a
 * view into them.
 */
export class XrangeReplyReader {
  private readonly waiting: PendingReply[] = [];
  /** The XRANGE reply being read: its entries so far (null between replies). */
  private entries: StreamEntry[] | null = null;
  private filled = 0;
  /** Start of an incomplete unit, copied, and how many bytes it needs at least. */
  private carry: Buffer[] = [];
  private carryLength = 0;
  private need = 0;
  private page = Buffer.alloc(0);
  private pageAt = 0;
  /** Where the last integer line read by `int` ended. */
  private at = 0;
  /** Set by `failAll`: the rest of a chunk being fed is not read. */
  private failed = false;

  expect(pending: PendingReply): void {
    this.waiting.push(pending);
  }

  get pending(): number {
    return this.waiting.length;
  }

  /** The connection is gone: every waiting command fails with `err`. */
  failAll(err: Error): void {
    this.failed = true;
    this.entries = null;
    this.carry = [];
    this.carryLength = 0;
    for (const p of this.waiting.splice(0)) p.done(err);
  }

  /** Parses what `chunk` completes; throws RedisProtocolError on bytes that are not a reply. */
  feed(chunk: Buffer): void {
    if (this.failed) return;
    let p = 0;
    while (this.carryLength > 0) {
      const total = this.carryLength + chunk.length;
      if (total < this.need) {
        this.carry.push(Buffer.from(chunk));
        this.carryLength = total;
        return;
      }
      const take = Math.min(chunk.length, Math.max(this.need - this.carryLength, MIN_TAKE));
      const joined = Buffer.concat([...this.carry, chunk.subarray(0, take)]);
      const end = this.unit(joined, 0);
      if (this.failed) return;
      if (end === INCOMPLETE) {
        this.need = Math.max(this.need, joined.length + 1);
        if (take < chunk.length) continue;
        this.carry = [joined];
        this.carryLength = joined.length;
        return;
      }
      p = end - this.carryLength;
      this.carry = [];
      this.carryLength = 0;
    }
    while (p < chunk.length && !this.failed) {
      const end = this.unit(chunk, p);
      if (end === INCOMPLETE) {
        this.carry = [Buffer.from(chunk.subarray(p))];
        this.carryLength = chunk.length - p;
        return;
      }
      p = end;
    }
  }

  /** One unit at `p`: its end, or INCOMPLETE with `need` set. */
  private unit(buf: Buffer, p: number): number {
    if (this.entries !== null) return this.entry(buf, p, this.entries);
    const pending = this.waiting[0];
    if (pending === undefined) throw new RedisProtocolError('reply without a command');
    const type = buf[p];
    if (type === 0x2d || type === 0x2b || type === 0x3a) {
      // -error, +status, :integer
      const nl = buf.indexOf(LF, p);
      if (nl < 0) return this.incomplete(buf, p, buf.length + 1);
      const text = buf.toString('utf8', p + 1, buf[nl - 1] === CR ? nl - 1 : nl);
      if (type === 0x2d) this.finish(new RedisReplyError(text));
      else if (pending.key === null) this.finish(text);
      else throw new RedisProtocolError(`XRANGE answered with ${JSON.stringify(text.slice(0, 40))}`);
      return nl + 1;
    }
    if (type !== 0x2a || pending.key === null) {
      throw new RedisProtocolError(`unexpected reply type ${JSON.stringify(String.fromCharCode(type))}`);
    }
    const n = this.int(buf, p + 1);
    if (n === INCOMPLETE) return this.incomplete(buf, p, buf.length + 1);
    if (n > 0) {
      this.entries = new Array<StreamEntry>(n);
      this.filled = 0;
    } else {
      this.finish([]);
    }
    return this.at;
  }

  /** One entry `*2 $id *n ($field $value)...` at `start`, added to `entries`. */
  private entry(buf: Buffer, start: number, entries: StreamEntry[]): number {
    const end = buf.length;
    const parts = this.intAfter(buf, start, 0x2a);
    if (parts === INCOMPLETE) return this.incomplete(buf, start, end + 1);
    if (parts !== 2) throw new RedisProtocolError('an XRANGE entry is not an id and its fields');
    let p = this.at;
    const idLength = this.lengthAfter(buf, p);
    if (idLength === INCOMPLETE) return this.incomplete(buf, start, end + 1);
    p = this.at;
    if (p + idLength + 2 > end) return this.incomplete(buf, start, p + idLength + 2);
    const id = buf.toString('latin1', p, p + idLength);
    p += idLength + 2;
    const fields = this.intAfter(buf, p, 0x2a);
    if (fields === INCOMPLETE) return this.incomplete(buf, start, end + 1);
    p = this.at;
    // The payload is field `d` (PROTOCOL §1); entries written by other tools: their first value.
    let from = 0;
    let to = 0;
    let sawD = false;
    for (let f = 0; f < fields; f += 2) {
      const nameLength = this.lengthAfter(buf, p);
      if (nameLength === INCOMPLETE) return this.incomplete(buf, start, end + 1);
      p = this.at;
      if (p + nameLength + 2 > end) return this.incomplete(buf, start, p + nameLength + 2);
      const isD = nameLength === 1 && buf[p] === 0x64;
      p += nameLength + 2;
      const valueLength = this.lengthAfter(buf, p);
      if (valueLength === INCOMPLETE) return this.incomplete(buf, start, end + 1);
      p = this.at;
      if (p + valueLength + 2 > end) return this.incomplete(buf, start, p + valueLength + 2);
      if ((isD && !sawD) || f === 0) {
        from = p;
        to = p + valueLength;
        sawD ||= isD;
      }
      p += valueLength + 2;
    }
    const key = this.waiting[0].key!;
    const data = this.store(buf, from, to, entries.length - this.filled);
    entries[this.filled++] = { key, id, data };
    if (this.filled === entries.length) {
      this.entries = null;
      this.finish(entries);
    }
    return p;
  }

  /** Copies a payload into the page buffer, starting a new page (sized for `left` such payloads) when it is full. */
  private store(buf: Buffer, from: number, to: number, left: number): Buffer {
    const length = to - from;
    if (this.pageAt + length > this.page.length) {
      this.page = Buffer.allocUnsafe(Math.max(length, Math.min(PAGE_BYTES, length * left)));
      this.pageAt = 0;
    }
    const at = this.pageAt;
    buf.copy(this.page, at, from, to);
    this.pageAt = at + length;
    return this.page.subarray(at, at + length);
  }

  private finish(reply: StreamEntry[] | string | Error): void {
    this.waiting.shift()!.done(reply);
  }

  /** `type` then an integer line at `p` (its end in `at`); INCOMPLETE when cut off. */
  private intAfter(buf: Buffer, p: number, type: number): number {
    if (p >= buf.length) return INCOMPLETE;
    if (buf[p] !== type) throw new RedisProtocolError(`expected ${String.fromCharCode(type)} in an XRANGE reply`);
    return this.int(buf, p + 1);
  }

  /** A bulk string's `$length` line at `p` (a nil is not allowed in an entry). */
  private lengthAfter(buf: Buffer, p: number): number {
    const n = this.intAfter(buf, p, 0x24);
    if (n === NIL) throw new RedisProtocolError('nil string in an XRANGE entry');
    return n;
  }

  /** A length line at `p` up to CRLF, its end in `at`: INCOMPLETE when cut off, NIL when negative. */
  private int(buf: Buffer, p: number): number {
    const end = buf.length;
    let negative = false;
    if (p < end && buf[p] === 0x2d) {
      negative = true;
      p++;
    }
    let n = 0;
    for (;;) {
      if (p >= end) return INCOMPLETE;
      const c = buf[p++];
      if (c === CR) break;
      if (c < 0x30 || c > 0x39) throw new RedisProtocolError('malformed length in a reply');
      n = n * 10 + c - 0x30;
    }
    if (p >= end) return INCOMPLETE;
    if (buf[p] !== LF) throw new RedisProtocolError('malformed line end in a reply');
    this.at = p + 1;
    return negative ? NIL : n;
  }

  private incomplete(buf: Buffer, start: number, needEnd: number): number {
    this.need = Math.max(needEnd, buf.length + 1) - start;
    return INCOMPLETE;
  }
}
