import type { WebSocket } from 'ws';
import { compareIds } from '../redis/entry-id';
import { StreamReader } from '../streams/stream-reader';
import { MessageSender } from './message-sender';
import { closeFor, closeWith, CLOSE } from './ws-close';
import { PullQuery } from './ws-query';
import { TickCork } from './tick-cork';

/** Longest single wait of a replay (`until`) before its end is checked again. */
const REPLAY_WAIT_MS = 30_000;
/** Bytes a session sends from memory in one go before it lets other sockets have a turn. */
const BURST_BYTES = 1024 * 1024;

/** Where a replay stops: the inclusive end id and its time (`until`). */
export interface ReplayEnd {
  id: string;
  ms: number;
}

/**
 * One pull socket: a loop that waits on the read hub and sends messages. It never has more than
 * the allowed unflushed bytes on the socket; beyond that it waits for the client (the data waits
 * in Redis), which slows nobody else.
 */
export class PullSession {
  private readonly abort = new AbortController();
  private frameSeen = true;
  private frameWaiter?: () => void;
  private lastSent = 0;
  private readonly tick: TickCork;
  /** Bytes sent since the session last gave up the event loop. */
  private burst = 0;
  /** Set with the abort, when the socket closes. */
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly reader: StreamReader,
    private readonly sender: MessageSender,
    private readonly query: PullQuery,
    private readonly until?: ReplayEnd,
  ) {
    this.tick = new TickCork(ws);
    ws.on('message', () => {
      this.frameSeen = true;
      this.frameWaiter?.();
    });
    ws.once('close', () => {
      this.closed = true;
      this.abort.abort();
      this.frameWaiter?.();
      reader.close();
    });
  }

  /** Read several times per message: a plain field, where `signal.aborted` costs a brand check each time. */
  private get open(): boolean {
    return !this.closed;
  }

  async run(): Promise<void> {
    try {
      while (this.open) {
        if (this.query.ack) await this.nextClientFrame();
        if (this.sender.congested) await this.sender.drained();
        if (this.query.maxFps > 0) await this.pace();
        if (this.burst >= BURST_BYTES) {
          this.burst = 0;
          await new Promise<void>((r) => setImmediate(r));
        }
        if (!this.open) break;
        // Entries already in memory are taken without a promise; otherwise wait for the hub (or,
        // replaying, until the end time has passed).
        let entries = this.reader.takeNow();
        if (entries === null) {
          this.burst = 0;
          const wait = this.until ? Math.max(0, Math.min(REPLAY_WAIT_MS, this.until.ms - Date.now() + 1)) : Infinity;
          entries = await this.reader.next(wait, this.abort.signal);
          if (!this.open) break;
        }
        if (this.until) entries = entries.filter((e) => compareIds(e.id, this.until!.id) <= 0);
        if (entries.length > 0) {
          this.tick.cork();
          this.burst += this.sender.send(entries);
          this.sent();
        }
        if (this.until && this.replayDone(this.until, entries.length === 0)) {
          closeWith(this.ws, CLOSE.NORMAL, 'replay complete');
          break;
        }
      }
    } catch (err) {
      if (this.open) {
        const { code, reason } = closeFor(err);
        closeWith(this.ws, code, reason);
      }
    }
  }

  /** Every stream is past `until`, or nothing more came and `until` has passed. */
  private replayDone(until: ReplayEnd, idle: boolean): boolean {
    if (this.reader.cursors.every((c) => compareIds(c, until.id) >= 0)) return true;
    return idle && Date.now() > until.ms;
  }

  private sent(): void {
    this.frameSeen = false;
    this.lastSent = Date.now();
  }

  private async nextClientFrame(): Promise<void> {
    if (!this.frameSeen) await new Promise<void>((r) => (this.frameWaiter = r));
    this.frameWaiter = undefined;
  }

  private async pace(): Promise<void> {
    const wait = this.lastSent + 1000 / this.query.maxFps - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  /** Graceful shutdown: close with 1001. */
  shutdown(): void {
    if (this.open) closeWith(this.ws, CLOSE.GOING_AWAY, 'server shutting down');
  }
}
