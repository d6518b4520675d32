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

/** Most payload bytes one page buffer holds (a larger payload gets a buffer of its own). */
const PAGE_BYTES = 1024 * 1024;
/** Fewest bytes of a new chunk joined to an incomplete unit (a split line needs only a few more). */
const MIN_TAKE = 1024;
const EMPTY = Buffer.alloc(0);
const INCOMPLETE = -1;
/** A negative length: a nil (`*-1`, `$-1`). */
const NIL = -2;
const CR = 0x0d;
const LF = 0x0a;

/** Where the reader is in a reply: each stage reads one unit. */
const enum Stage {
  /** The first line of a reply (`*n`, or a status or error line). */
  Reply,
  /** `*2`: an entry begins. */
  Entry,
  /** `$len` and the entry id. */
  Id,
  /** `*n`: the number of field names and values. */
  Fields,
  /** `$len` and a field name. */
  Name,
  /** `$len` and a field value. */
  Value,
}

/**
 * Reads the replies of one Redis connection that sends XRANGE (and status commands such as AUTH)
 * in RESP2, straight into stream entries. Unlike a general parser it makes no array per entry and
 * no buffer per field, and copies each payload once, into a page buffer shared by the entries of
 * a reply: payloads that follow each other in the stream lie back to back in memory, so a message
 * of several entries can be sent without concatenating them (see `joinPayloads`). One entry kept
 * alive keeps its page (up to 1 MiB) alive.
 *
 * Replies are read in units (a line with its bulk string, if any) parsed from contiguous bytes. A
 * unit cut by a chunk boundary is carried over and completed from as few bytes of the next chunks
 * as it needs: once a bulk string's length is read, exactly that many, so a payload of any size
 * is joined once. Chunks may be reused by the caller after `feed` returns: nothing keeps a view
 * into them.
 */
export class XrangeReplyReader {
  private readonly waiting: PendingReply[] = [];
  private stage = Stage.Reply;
  /** The XRANGE reply being read: its entries so far. */
  private entries: StreamEntry[] = [];
  private filled = 0;
  /** The entry being read. */
  private id = '';
  private fields = 0;
  private field = 0;
  private isD = false;
  private sawD = false;
  private data: Buffer = EMPTY;
  /** Start of an incomplete unit, copied, and how many bytes it needs at least. */
  private carry: Buffer[] = [];
  private carryLength = 0;
  private need = 0;
  private page = EMPTY;
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
    this.entries = [];
    this.carry = [];
    this.carryLength = 0;
    this.page = EMPTY;
    for (const p of this.waiting.splice(0)) p.done(err);
  }

  /** Parses what `chunk` completes; throws RedisProtocolError on bytes that are not a reply. */
  feed(chunk: Buffer): void {
    if (this.failed) return;
    let p = 0;
    let take = 0;
    while (this.carryLength > 0) {
      const total = this.carryLength + chunk.length;
      if (total < this.need) {
        this.carry.push(Buffer.from(chunk));
        this.carryLength = total;
        return;
      }
      // Past a first try, twice as much each time: a unit is joined a few times at most.
      take = Math.min(chunk.length, Math.max(this.need - this.carryLength, MIN_TAKE, 2 * take));
      const joined = Buffer.concat([...this.carry, chunk.subarray(0, take)]);
      const end = this.unit(joined, 0);
      if (this.failed) return;
      if (end === INCOMPLETE) {
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
    switch (this.stage) {
      case Stage.Reply:
        return this.reply(buf, p);
      case Stage.Entry: {
        const parts = this.intAfter(buf, p, 0x2a);
        if (parts === INCOMPLETE) return this.incomplete(buf, p, buf.length + 1);
        if (parts !== 2) throw new RedisProtocolError('an XRANGE entry is not an id and its fields');
        this.stage = Stage.Id;
        return this.at;
      }
      case Stage.Id: {
        const end = this.bulk(buf, p);
        if (end === INCOMPLETE) return end;
        this.id = buf.toString('latin1', this.at, end - 2);
        this.stage = Stage.Fields;
        return end;
      }
      case Stage.Fields: {
        const n = this.intAfter(buf, p, 0x2a);
        if (n === INCOMPLETE) return this.incomplete(buf, p, buf.length + 1);
        // A nil (`*-1`) or empty field list: an empty payload.
        this.fields = Math.max(n, 0);
        this.field = 0;
        this.sawD = false;
        this.data = EMPTY;
        if (this.fields === 0) return this.entryDone(this.at);
        this.stage = Stage.Name;
        return this.at;
      }
      case Stage.Name: {
        const end = this.bulk(buf, p);
        if (end === INCOMPLETE) return end;
        this.isD = end - 2 - this.at === 1 && buf[this.at] === 0x64;
        this.stage = Stage.Value;
        return end;
      }
      case Stage.Value: {
        const end = this.bulk(buf, p);
        if (end === INCOMPLETE) return end;
        // The payload is field `d` (PROTOCOL §1); entries written by other tools: their first value.
        if ((this.isD && !this.sawD) || this.field === 0) {
          this.data = this.store(buf, this.at, end - 2);
          this.sawD ||= this.isD;
        }
        this.field += 2;
        if (this.field >= this.fields) return this.entryDone(end);
        this.stage = Stage.Name;
        return end;
      }
    }
  }

  /** The first line of a reply. */
  private reply(buf: Buffer, p: number): number {
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
      this.stage = Stage.Entry;
    } else {
      this.finish([]);
    }
    return this.at;
  }

  private entryDone(end: number): number {
    const entries = this.entries;
    entries[this.filled++] = { key: this.waiting[0].key!, id: this.id, data: this.data };
    this.data = EMPTY;
    if (this.filled < entries.length) {
      this.stage = Stage.Entry;
      return end;
    }
    this.stage = Stage.Reply;
    this.entries = [];
    // The next reply starts a page of its own: a page is not kept alive by the reader between replies.
    this.page = EMPTY;
    this.pageAt = 0;
    this.finish(entries);
    return end;
  }

  /** A bulk string `$len CRLF bytes CRLF` at `p` (nil not allowed): its end, its bytes from `at`. */
  private bulk(buf: Buffer, p: number): number {
    const length = this.intAfter(buf, p, 0x24);
    if (length === INCOMPLETE) return this.incomplete(buf, p, buf.length + 1);
    if (length === NIL) throw new RedisProtocolError('nil string in an XRANGE entry');
    const end = this.at + length + 2;
    if (end > buf.length) return this.incomplete(buf, p, end);
    if (buf[end - 2] !== CR || buf[end - 1] !== LF) throw new RedisProtocolError('bulk string longer than its length');
    return end;
  }

  /** Copies a payload into the page buffer, starting a new page (sized for the entries left) when it is full. */
  private store(buf: Buffer, from: number, to: number): Buffer {
    const length = to - from;
    if (this.pageAt + length > this.page.length) {
      const left = this.entries.length - this.filled;
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

  /** The unit at `start` needs bytes up to `needEnd` (at least one more than `buf` has). */
  private incomplete(buf: Buffer, start: number, needEnd: number): number {
    this.need = Math.max(needEnd, buf.length + 1) - start;
    return INCOMPLETE;
  }
}
