import type { WebSocket } from 'ws';
import { MetricsService } from '../health/metrics.service';
import { StreamEntry } from '../redis/redis-streams.service';
import { StreamReader } from '../streams/stream-reader';
import { entryToJson } from './json-frames';
import { encodePullHeader } from './push-codec';
import { closeFor, closeWith, CLOSE } from './ws-close';
import { PullQuery } from './ws-query';

const WAIT_MS = 30_000;

/**
 * Encodings of single entries, shared by every reader of the ring (fan-out): a frame is built
 * once per entry and stream name, not once per reader.
 */
const jsonFrames = new WeakMap<StreamEntry, string>();
const singleHeaders = new WeakMap<StreamEntry, string>();

/**
 * One pull socket: a loop that waits on the read hub and sends header + blob messages. It never
 * has more than `maxBuffered` unflushed bytes on the socket; beyond that it waits for the client
 * (the data waits in Redis), which slows nobody else.
 */
export class PullSession {
  private readonly abort = new AbortController();
  private unflushed = 0;
  private flushed?: () => void;
  private frameSeen = true;
  private frameWaiter?: () => void;
  private lastSent = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly reader: StreamReader,
    /** Stream id (without device prefix) of a reader key. */
    private readonly streamIdOf: (key: string) => string,
    private readonly query: PullQuery,
    private readonly maxBuffered: number,
    private readonly metrics: MetricsService,
  ) {
    ws.on('message', () => {
      this.frameSeen = true;
      this.frameWaiter?.();
    });
    ws.once('close', () => {
      this.abort.abort();
      this.frameWaiter?.();
      this.flushed?.();
      reader.close();
    });
  }

  private get open(): boolean {
    return !this.abort.signal.aborted;
  }

  async run(): Promise<void> {
    try {
      while (this.open) {
        if (this.query.ack) await this.nextClientFrame();
        if (this.unflushed > this.maxBuffered) await new Promise<void>((r) => (this.flushed = r));
        if (this.query.maxFps > 0) await this.pace();
        if (!this.open) break;
        const entries = await this.reader.next(WAIT_MS, this.abort.signal);
        if (entries.length > 0 && this.open) this.send(entries);
      }
    } catch (err) {
      if (this.open) {
        const { code, reason } = closeFor(err);
        closeWith(this.ws, code, reason);
      }
    }
  }

  private async nextClientFrame(): Promise<void> {
    if (!this.frameSeen) await new Promise<void>((r) => (this.frameWaiter = r));
    this.frameWaiter = undefined;
  }

  private async pace(): Promise<void> {
    const wait = this.lastSent + 1000 / this.query.maxFps - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  private send(entries: StreamEntry[]): void {
    let bytes = 0;
    for (const e of entries) bytes += e.data.length;
    if (this.query.format === 'json') {
      for (const e of entries) {
        let frame = jsonFrames.get(e);
        if (frame === undefined) {
          frame = entryToJson(this.streamIdOf(e.key), e.id, e.data);
          jsonFrames.set(e, frame);
        }
        this.queue(frame, frame.length);
      }
    } else {
      if (this.query.header) this.ws.send(this.header(entries));
      this.queue(entries.length === 1 ? entries[0].data : Buffer.concat(entries.map((e) => e.data)), bytes);
    }
    this.frameSeen = false;
    this.lastSent = Date.now();
    this.metrics.entriesPulled.inc({ transport: 'ws' }, entries.length);
    this.metrics.bytesPulled.inc({ transport: 'ws' }, bytes);
  }

  private header(entries: StreamEntry[]): string {
    const cacheable = entries.length === 1 && this.query.offsets === 'start';
    const cached = cacheable ? singleHeaders.get(entries[0]) : undefined;
    if (cached !== undefined) return cached;
    const header = encodePullHeader(
      entries.map((e) => ({ streamId: this.streamIdOf(e.key), id: e.id, length: e.data.length })),
      this.query.offsets,
    );
    if (cacheable) singleHeaders.set(entries[0], header);
    return header;
  }

  /** Sends a frame, counting its bytes as unflushed until the socket has written them. */
  private queue(frame: string | Buffer, bytes: number): void {
    this.unflushed += bytes;
    this.ws.send(frame, () => {
      this.unflushed -= bytes;
      if (this.unflushed <= this.maxBuffered) this.flushed?.();
    });
  }

  /** Graceful shutdown: close with 1001. */
  shutdown(): void {
    if (this.open) closeWith(this.ws, CLOSE.GOING_AWAY, 'server shutting down');
  }
}
