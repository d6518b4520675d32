import { Backoff, Connection, ReconnectOptions } from './connection';
import { StreamerError } from './errors';
import type { SocketLike } from './socket';

/** Called before each reconnection attempt: why the link went down and how long until the retry. */
export type RetryListener = (err: StreamerError, delayMs: number) => void;

/**
 * One logical link to a push or pull endpoint over as many sockets as it takes: it reconnects
 * with backoff after a transient failure (network, `503`, close `1001`/`1006`/`1011`) and gives
 * up on a permanent one (`400`/`401`/`403`, close `1007`/`1008`/`1009`).
 */
export abstract class ReconnectingSocket {
  protected socket?: SocketLike;
  /** True between the socket's open and its close. */
  protected connected = false;
  /** Set by `stop`: no reconnection, and the next close is expected. */
  protected stopped = false;
  private connecting = false;
  private connError?: StreamerError;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private readonly backoff: Backoff;
  /** Connections opened after the first. */
  reconnects = 0;
  private opened = 0;
  /** Resolves when the first socket is open; rejects if the link ends before. */
  readonly ready: Promise<void>;
  private settleReady!: (err?: StreamerError) => void;

  constructor(
    protected readonly conn: Connection,
    private readonly reconnect: ReconnectOptions | false,
    private readonly onRetry?: RetryListener,
  ) {
    this.backoff = new Backoff(reconnect || {});
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err ? reject(err) : resolve());
    });
    // Nobody has to wait for it: an unobserved failure is reported by the subclass too.
    this.ready.catch(() => undefined);
  }

  /** The endpoint URL for the next connection (it may depend on what was received so far). */
  protected abstract url(): Promise<string>;
  protected abstract onOpen(): void;
  protected abstract onMessage(data: string | Uint8Array): void;
  /** The socket closed and a reconnection follows. */
  protected abstract onDown(err: StreamerError): void;
  /** The link is finished: `err` is null after a normal end (a stop, or close 1000 where that means done). */
  protected abstract onEnd(err: StreamerError | null): void;

  /** Whether a close with this error is worth a reconnection. */
  protected retryable(err: StreamerError): boolean {
    return err.transient;
  }

  /** Opens a socket unless one is open, opening, or waiting for its backoff delay. */
  protected connect(): void {
    if (this.connecting || this.socket || this.stopped || this.retryTimer) return;
    this.connecting = true;
    void this.openSocket();
  }

  private async openSocket(): Promise<void> {
    let url: string;
    let token: string | undefined;
    try {
      [url, token] = await Promise.all([this.url(), this.conn.token()]);
    } catch (err) {
      this.connecting = false;
      const e = err instanceof StreamerError ? err : new StreamerError(String((err as Error)?.message ?? err));
      return this.down(e);
    }
    this.connecting = false;
    if (this.stopped) return this.end(null);
    this.socket = this.conn.sockets(url, token, {
      open: () => {
        this.connected = true;
        if (this.opened++ > 0) this.reconnects++;
        else this.settleReady();
        this.backoff.reset();
        this.onOpen();
      },
      message: (data) => this.onMessage(data),
      error: (err) => (this.connError ??= err),
      close: (code, reason) => {
        const err = this.connError ?? StreamerError.fromClose(code, reason);
        this.connError = undefined;
        this.socket = undefined;
        this.connected = false;
        if (this.stopped) return this.end(null);
        this.down(err);
      },
    });
  }

  private down(err: StreamerError): void {
    const delay = this.reconnect && this.retryable(err) ? this.backoff.next() : null;
    if (delay === null) {
      this.stopped = true;
      return this.end(err);
    }
    this.onDown(err);
    this.onRetry?.(err, delay);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delay);
  }

  /** Stops for good: closes the socket (code 1000) and cancels a pending reconnection. */
  protected stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.socket) this.socket.close(1000);
    else if (!this.connecting) this.end(null);
  }

  private end(err: StreamerError | null): void {
    this.settleReady(err ?? new StreamerError('closed before it connected'));
    this.onEnd(err);
  }
}
