import type { WebSocket } from 'ws';
import { MetricsService } from '../health/metrics.service';
import { joinPayloads, StreamEntry } from '../redis/redis-streams.service';
import { entryToJson } from './json-frames';
import { PullHeaderEncoder } from './pull-header';

/**
 * Encodings of single entries, shared by every reader of the ring (fan-out): a frame is built
 * once per entry, not once per reader.
 */
const jsonFrames = new WeakMap<StreamEntry, string>();
const singleHeaders = new WeakMap<StreamEntry, Buffer>();

export interface MessageFormat {
  format: 'binary' | 'json';
  /** Send the text header before each blob (binary format). */
  header: boolean;
  offsets: 'start' | 'end';
}

/**
 * Writes pull messages (header + blob, or one JSON frame per entry) to a socket and counts the
 * bytes the socket has not flushed yet, so that callers can wait for a slow reader.
 */
export class MessageSender {
  private unflushed = 0;
  private waiters: (() => void)[] = [];
  private readonly pulled: { entries: number; bytes: number };
  private readonly headers: PullHeaderEncoder;

  constructor(
    private readonly ws: WebSocket,
    /** Stream id (without device prefix) of a data key. */
    private readonly streamIdOf: (key: string) => string,
    private readonly format: MessageFormat,
    private readonly maxBuffered: number,
    metrics: MetricsService,
  ) {
    this.headers = new PullHeaderEncoder(streamIdOf, format.offsets);
    ws.once('close', () => this.release());
    this.pulled = metrics.pulledBy('ws');
  }

  /** True while more than the allowed bytes wait to be flushed to the client. */
  get congested(): boolean {
    return this.unflushed > this.maxBuffered;
  }

  /** Resolves once the socket is no longer congested (or closed). */
  drained(): Promise<void> {
    if (!this.congested || this.ws.readyState !== this.ws.OPEN) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** Sends one message; returns its payload bytes. */
  send(entries: StreamEntry[]): number {
    let bytes = 0;
    for (const e of entries) bytes += e.data.length;
    if (this.format.format === 'json') {
      for (const e of entries) {
        let frame = jsonFrames.get(e);
        if (frame === undefined) {
          frame = entryToJson(this.streamIdOf(e.key), e.id, e.data);
          jsonFrames.set(e, frame);
        }
        this.queue(frame, frame.length);
      }
    } else {
      if (this.format.header) this.ws.send(this.header(entries), { binary: false });
      this.queue(joinPayloads(entries), bytes);
    }
    this.pulled.entries += entries.length;
    this.pulled.bytes += bytes;
    return bytes;
  }

  /** A JSON object text frame: a notice to the client, told apart from headers (arrays). */
  notice(body: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(body));
  }

  private header(entries: StreamEntry[]): Buffer {
    const cacheable = entries.length === 1 && this.format.offsets === 'start';
    const cached = cacheable ? singleHeaders.get(entries[0]) : undefined;
    if (cached !== undefined) return cached;
    const header = this.headers.encode(entries);
    if (cacheable) singleHeaders.set(entries[0], header);
    return header;
  }

  private queue(frame: string | Buffer, bytes: number): void {
    this.unflushed += bytes;
    this.ws.send(frame, () => {
      this.unflushed -= bytes;
      if (!this.congested) this.release();
    });
  }

  private release(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
