import type { WebSocket } from 'ws';
import { AuthUser } from '../auth/auth-user';
import { EntryToWrite, StreamWriter, WriteDone } from '../streams/stream-writer.service';
import { parseJsonPush } from './json-frames';
import { CodecError, HeaderItem, parsePushHeader, planEntries, splitBlob } from './push-codec';
import { closeFor, closeWith, CLOSE } from './ws-close';
import { PushQuery } from './ws-query';
import { TickCork } from './tick-cork';

export interface PushTarget {
  user: AuthUser;
  device: string;
  /** Streams named by the path, or null for `*` (the header names them). */
  pathStreams: string[] | null;
  query: PushQuery;
}

/**
 * One push socket: frames → codec → StreamWriter, acks in order. Batches are sent to Redis as
 * they arrive (never one awaited round trip per entry or per batch); the socket is paused while
 * more than `maxInFlight` bytes wait for Redis.
 */
/** A batch given to the writer, waiting for its turn to be acked. */
class InFlight implements WriteDone {
  settled = false;
  ids?: string[];
  error?: unknown;

  constructor(
    private readonly session: PushSession,
    readonly bytes: number,
  ) {}

  stored(ids: string[]): void {
    this.settled = true;
    this.ids = ids;
    this.session.settle();
  }

  failed(err: unknown): void {
    this.settled = true;
    this.error = err;
    this.session.settle();
  }
}

export class PushSession {
  private pending: HeaderItem[] | null = null;
  /** Batches in the order they were received; acks leave in this order. */
  private inFlight: InFlight[] = [];
  /** Index in `inFlight` of the oldest batch not acked yet. */
  private head = 0;
  /** Called once every batch received so far has been acked (or failed). */
  private idle: (() => void)[] = [];
  private inFlightBytes = 0;
  private paused = false;
  private failed = false;
  private readonly tick: TickCork;
  /** Set by shutdown(): frames that arrive from then on are not stored. */
  private stopping = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly target: PushTarget,
    private readonly writer: StreamWriter,
    private readonly maxInFlight: number,
  ) {
    this.tick = new TickCork(ws);
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
  }

  /** Resolves when every batch received so far is stored and acked (for graceful shutdown). */
  settled(): Promise<void> {
    if (this.head === this.inFlight.length) return Promise.resolve();
    return new Promise((done) => this.idle.push(done));
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.failed || this.stopping) return;
    try {
      const entries = isBinary ? this.onBinary(data) : this.onText(data);
      if (entries) this.submit(entries, data.length);
    } catch (err) {
      this.fail(err);
    }
  }

  private onText(data: Buffer): EntryToWrite[] | null {
    const { header, format } = this.target.query;
    if (format === 'json') return [{ ...parseJsonPush(data.toString('utf8'), this.target.pathStreams), id: null }];
    if (header === '0') throw new CodecError('BAD_HEADER', 'text frame received with header=0');
    if (this.pending) throw new CodecError('BAD_HEADER', 'a header must be followed by its binary frame');
    this.pending = parsePushHeader(data.toString('utf8'));
    return null;
  }

  private onBinary(data: Buffer): EntryToWrite[] {
    const { pathStreams, query } = this.target;
    if (query.format === 'json') throw new CodecError('BAD_HEADER', 'format=json takes text frames only');
    if (this.pending) {
      const plan = planEntries(this.pending, data.length, pathStreams, query.offsets);
      this.pending = null;
      const parts = splitBlob(data, plan);
      return plan.map((p, i) => ({ streamId: p.streamId, id: p.id, data: parts[i] }));
    }
    if (query.header === '1') throw new CodecError('BAD_HEADER', 'binary frame without a header (header=1)');
    if (!pathStreams || pathStreams.length !== 1) {
      throw new CodecError('BAD_HEADER', 'a binary frame without a header needs exactly one stream in the path');
    }
    return [{ streamId: pathStreams[0], id: null, data }];
  }

  private submit(entries: EntryToWrite[], bytes: number): void {
    const { user, device } = this.target;
    const batch = new InFlight(this, bytes);
    this.inFlight.push(batch);
    this.inFlightBytes += bytes;
    if (!this.paused && this.inFlightBytes > this.maxInFlight) {
      this.paused = true;
      this.ws.pause();
    }
    this.writer.submit(user, device, entries, 'ws', batch);
  }

  /** Acks the batches whose turn has come (a batch settled), in the order they were received. */
  settle(): void {
    const queue = this.inFlight;
    while (this.head < queue.length && queue[this.head].settled) {
      const batch = queue[this.head++];
      this.release(batch.bytes);
      if (!batch.ids) this.fail(batch.error);
      else if (this.target.query.ack && !this.failed) {
        this.tick.cork();
        this.ws.send(batch.ids.join(','));
      }
    }
    if (this.head === queue.length) {
      this.inFlight = [];
      this.head = 0;
      for (const done of this.idle.splice(0)) done();
    } else if (this.head > 1024 && this.head * 2 > queue.length) {
      this.inFlight = queue.slice(this.head);
      this.head = 0;
    }
  }

  private release(bytes: number): void {
    this.inFlightBytes -= bytes;
    if (this.paused && this.inFlightBytes <= this.maxInFlight / 2) {
      this.paused = false;
      this.ws.resume();
    }
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    const { code, reason } = closeFor(err);
    closeWith(this.ws, code, reason);
  }

  /** Graceful shutdown: wait for stored batches and their acks, then close with 1001. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    this.ws.pause();
    await this.settled();
    // Read again (frames are ignored now), or the peer's close reply is never seen and the
    // shutdown waits for its timeout before it terminates the socket.
    this.ws.resume();
    if (!this.failed) closeWith(this.ws, CLOSE.GOING_AWAY, 'server shutting down');
  }
}
