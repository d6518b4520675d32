import type { WebSocket } from 'ws';
import { MetricsService } from '../health/metrics.service';
import { StreamEntry } from '../redis/redis-streams.service';
import { StreamReader } from '../streams/stream-reader';
import { encodePullHeader } from './push-codec';
import { closeFor, closeWith, CLOSE } from './ws-close';
import { PullQuery } from './ws-query';

const WAIT_MS = 30_000;

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
    /** Stream id (without device prefix) of each reader key. */
    private readonly streamIds: Map<string, string>,
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
    const blob = entries.length === 1 ? entries[0].data : Buffer.concat(entries.map((e) => e.data));
    if (this.query.header) {
      const header = encodePullHeader(
        entries.map((e) => ({ streamId: this.streamIds.get(e.key)!, id: e.id, length: e.data.length })),
        this.query.offsets,
      );
      this.ws.send(header);
    }
    this.unflushed += blob.length;
    this.ws.send(blob, () => {
      this.unflushed -= blob.length;
      if (this.unflushed <= this.maxBuffered) this.flushed?.();
    });
    this.frameSeen = false;
    this.lastSent = Date.now();
    this.metrics.entriesPulled.inc({ transport: 'ws' }, entries.length);
    this.metrics.bytesPulled.inc({ transport: 'ws' }, blob.length);
  }

  /** Graceful shutdown: close with 1001. */
  shutdown(): void {
    if (this.open) closeWith(this.ws, CLOSE.GOING_AWAY, 'server shutting down');
  }
}
