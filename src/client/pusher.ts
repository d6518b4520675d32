import { Connection, query, ReconnectOptions, streamPath } from './connection';
import { encodeBatch, Payload, toBytes } from './entries';
import { StreamerError } from './errors';
import { ReconnectingSocket, RetryListener } from './reconnecting-socket';

/** How `pushStream` batches, acknowledges and reconnects. */
export interface PushOptions {
  /** Device of the stream (default `default`). */
  deviceId?: string;
  /** Seal a batch once it holds this many bytes (default 1 MiB). */
  batchBytes?: number;
  /** Seal a batch once it holds this many entries (default 1000). */
  batchEntries?: number;
  /** Seal a non-empty batch this long after its first entry (default 10 ms). */
  batchMs?: number;
  /** Ask the service to acknowledge every batch (default true); needed to resend after a reconnect. */
  ack?: boolean;
  /** Batches sent and not yet acknowledged (default 8); more wait for acks. */
  maxInFlight?: number;
  /** `push()` waits while more than this many bytes are queued or unacknowledged (default 16 MiB). */
  maxQueuedBytes?: number;
  /** Reconnect after transient failures (default: yes, forever); `false` fails at the first one. */
  reconnect?: ReconnectOptions | false;
  /** Called with the ids of every acknowledged batch, in push order. */
  onAck?: (ids: string[]) => void;
  /** Called before each reconnection attempt. */
  onRetry?: RetryListener;
}

/** Counters of a pusher. */
export interface PushStats {
  /** Entries given to `push`. */
  entries: number;
  /** Payload bytes given to `push`. */
  bytes: number;
  /** Batches sent (a resent batch counts again). */
  batchesSent: number;
  /** Entries acknowledged (with acks) or handed to the socket (without). */
  entriesDone: number;
  /** Successful reconnections. */
  reconnects: number;
}

interface Batch {
  header: string;
  blob: Uint8Array;
  entries: number;
}

type Waiter = { resolve: () => void; reject: (err: StreamerError) => void };

/**
 * Pushes entries to one stream over WebSocket in header + blob batches (PROTOCOL §3).
 *
 * Delivery is **at least once** with acks: after a reconnection only the batches that were not
 * acknowledged are sent again, in push order, and an acknowledged batch is never sent twice. A
 * batch that was on its way when the connection closed may have been stored without its ack
 * reaching the client; it is then stored twice, under new Redis-chosen ids. Without acks,
 * batches handed to a socket that dies are not resent: they are stored or lost (at most once).
 */
export class Pusher extends ReconnectingSocket {
  private open: Uint8Array[] = [];
  private openBytes = 0;
  private sealTimer?: ReturnType<typeof setTimeout>;
  /** Sealed and not yet sent on the current socket. */
  private queue: Batch[] = [];
  /** Sent on the current socket, waiting for their acks (ack mode only). */
  private inFlight: Batch[] = [];
  /** Bytes sealed and not yet done (acked, or handed over without acks). */
  private pendingBytes = 0;
  private failure?: StreamerError;
  private closed = false;
  private idleWaiters: Waiter[] = [];
  private roomWaiters: Waiter[] = [];
  private drainTimer?: ReturnType<typeof setTimeout>;
  private readonly opts: Required<Omit<PushOptions, 'deviceId' | 'reconnect' | 'onAck' | 'onRetry'>>;
  private readonly counters = { entries: 0, bytes: 0, batchesSent: 0, entriesDone: 0 };

  constructor(
    conn: Connection,
    private readonly streamId: string,
    private readonly options: PushOptions = {},
  ) {
    super(conn, options.reconnect ?? {}, options.onRetry);
    if (streamId.includes('+') || streamId.includes('*')) {
      throw new StreamerError('pushStream takes one stream id (use one pusher per stream)');
    }
    this.opts = {
      batchBytes: options.batchBytes ?? 1024 * 1024,
      batchEntries: options.batchEntries ?? 1000,
      batchMs: options.batchMs ?? 10,
      ack: options.ack ?? true,
      maxInFlight: options.maxInFlight ?? 8,
      maxQueuedBytes: options.maxQueuedBytes ?? 16 * 1024 * 1024,
    };
    this.connect();
  }

  /** Counters so far. */
  get stats(): PushStats {
    return { ...this.counters, reconnects: this.reconnects };
  }

  /**
   * Adds one entry to the current batch. Resolves at once while fewer than `maxQueuedBytes` wait
   * to be sent or acknowledged, else when there is room again: await it to follow the service's pace.
   */
  push(data: Payload): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new StreamerError('push after close'));
    const bytes = toBytes(data);
    this.open.push(bytes);
    this.openBytes += bytes.length;
    this.counters.entries++;
    this.counters.bytes += bytes.length;
    if (this.open.length >= this.opts.batchEntries || this.openBytes >= this.opts.batchBytes) this.seal();
    else this.sealTimer ??= setTimeout(() => this.seal(), this.opts.batchMs);
    if (this.pendingBytes + this.openBytes <= this.opts.maxQueuedBytes) return Promise.resolve();
    return new Promise((resolve, reject) => this.roomWaiters.push({ resolve, reject }));
  }

  /** Sends the open batch and resolves when everything pushed so far is acknowledged (or sent, without acks). */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.seal();
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.idleWaiters.push({ resolve, reject });
      this.pump();
    });
  }

  /** Flushes, then closes the socket; rejects if something pushed could not be delivered. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.closed = true;
      this.stop();
    }
  }

  protected async url(): Promise<string> {
    const q = query({ header: 1, offsets: 'start', ack: this.opts.ack, device_id: this.options.deviceId });
    return `${this.conn.ws}/data/${streamPath(this.streamId)}/push${q}`;
  }

  protected onOpen(): void {
    this.pump();
  }

  protected onMessage(data: string | Uint8Array): void {
    const batch = this.inFlight.shift();
    if (typeof data !== 'string' || !batch)
      return this.fail(new StreamerError('unexpected frame from the push endpoint'));
    const ids = data.split(',');
    if (ids.length !== batch.entries) {
      return this.fail(new StreamerError(`ack of ${ids.length} ids for a batch of ${batch.entries}`));
    }
    this.done(batch);
    this.options.onAck?.(ids);
    this.pump();
  }

  protected onDown(): void {
    // Resend what was not acknowledged, ahead of what was never sent, in push order.
    this.queue.unshift(...this.inFlight);
    this.inFlight = [];
  }

  protected onEnd(err: StreamerError | null): void {
    if (err) this.fail(err);
    else if (!this.idle()) this.fail(new StreamerError('pusher closed with entries not delivered'));
  }

  /** Moves the open entries into a sealed batch. */
  private seal(): void {
    clearTimeout(this.sealTimer);
    this.sealTimer = undefined;
    if (this.open.length === 0) return;
    const { header, blob } = encodeBatch(this.open);
    this.queue.push({ header, blob, entries: this.open.length });
    this.pendingBytes += this.openBytes;
    this.open = [];
    this.openBytes = 0;
    this.pump();
  }

  /** Sends queued batches while the socket is open and the in-flight window has room. */
  private pump(): void {
    if (!this.socket) return this.connect();
    if (!this.connected) return;
    while (this.queue.length > 0 && (!this.opts.ack || this.inFlight.length < this.opts.maxInFlight)) {
      if (!this.opts.ack && this.socket.bufferedAmount > this.opts.maxQueuedBytes) return this.waitForDrain();
      const batch = this.queue.shift()!;
      this.socket.send(batch.header);
      this.socket.send(batch.blob);
      this.counters.batchesSent++;
      if (this.opts.ack) this.inFlight.push(batch);
      else this.done(batch);
    }
    if (!this.opts.ack && this.idleWaiters.length > 0) this.waitForDrain();
  }

  /** Without acks, "done" means handed to the socket; idleness also waits until the socket wrote it all. */
  private waitForDrain(): void {
    this.drainTimer ??= setTimeout(() => {
      this.drainTimer = undefined;
      this.pump();
      this.settle();
    }, 5);
  }

  private done(batch: Batch): void {
    this.pendingBytes -= batch.blob.length;
    this.counters.entriesDone += batch.entries;
    this.settle();
  }

  private idle(): boolean {
    const written = this.opts.ack || !this.socket || this.socket.bufferedAmount === 0;
    return this.open.length === 0 && this.queue.length === 0 && this.inFlight.length === 0 && written;
  }

  private settle(): void {
    if (this.pendingBytes + this.openBytes <= this.opts.maxQueuedBytes) {
      this.roomWaiters.splice(0).forEach((w) => w.resolve());
    }
    if (this.idle()) this.idleWaiters.splice(0).forEach((w) => w.resolve());
  }

  private fail(err: StreamerError): void {
    this.failure ??= err;
    clearTimeout(this.sealTimer);
    clearTimeout(this.drainTimer);
    [...this.roomWaiters.splice(0), ...this.idleWaiters.splice(0)].forEach((w) => w.reject(this.failure!));
    this.stop();
  }
}
