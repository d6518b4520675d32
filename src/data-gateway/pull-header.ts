import type { StreamEntry } from '../redis/redis-streams.service';

/** Prefixes kept per encoder; a wildcard reader that meets more streams starts over. */
const MAX_PREFIXES = 1024;

function jsonString(s: string): string {
  // Plain stream ids need no escaping; anything else (keys written by other tools) is escaped.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/**
 * The pull header `[[stream_id, entry_id, offset], ...]` (PROTOCOL §4) as UTF-8 bytes, written
 * straight into one buffer: each stream's `["stream_id",` is encoded once per encoder, and entry
 * ids, which Redis gives as `<ms>-<seq>` (ASCII digits), are copied byte by byte.
 */
export class PullHeaderEncoder {
  private readonly prefixes = new Map<string, Buffer>();

  constructor(
    /** Stream id (as the client names it) of a data key. */
    private readonly streamIdOf: (key: string) => string,
    private readonly offsets: 'start' | 'end',
  ) {}

  encode(entries: readonly StreamEntry[]): Buffer {
    const n = entries.length;
    const prefixes = new Array<Buffer>(n);
    // `[` `]`, and per entry: prefix, two quotes, `,`, the offset, `]` and a separating `,`.
    let size = 2;
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const e = entries[i];
      const prefix = (prefixes[i] = this.prefixOf(e.key));
      const length = e.data.length;
      size += prefix.length + e.id.length + 4 + (i > 0 ? 1 : 0) + digits(this.offsets === 'start' ? pos : pos + length);
      pos += length;
    }
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    out[at++] = 0x5b; // [
    pos = 0;
    for (let i = 0; i < n; i++) {
      const e = entries[i];
      if (i > 0) out[at++] = 0x2c; // ,
      const prefix = prefixes[i];
      for (let j = 0; j < prefix.length; j++) out[at++] = prefix[j];
      out[at++] = 0x22; // "
      const id = e.id;
      for (let j = 0; j < id.length; j++) out[at++] = id.charCodeAt(j);
      out[at++] = 0x22;
      out[at++] = 0x2c;
      const length = e.data.length;
      let off = this.offsets === 'start' ? pos : pos + length;
      pos += length;
      const end = (at += digits(off));
      do {
        out[--at] = 0x30 + (off % 10);
        off = Math.floor(off / 10);
      } while (off > 0);
      at = end;
      out[at++] = 0x5d; // ]
    }
    out[at] = 0x5d;
    return out;
  }

  private prefixOf(key: string): Buffer {
    let prefix = this.prefixes.get(key);
    if (prefix === undefined) {
      if (this.prefixes.size >= MAX_PREFIXES) this.prefixes.clear();
      prefix = Buffer.from(`[${jsonString(this.streamIdOf(key))},`);
      this.prefixes.set(key, prefix);
    }
    return prefix;
  }
}
