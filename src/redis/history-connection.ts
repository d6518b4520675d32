import { connect as netConnect, Socket } from 'node:net';
import { connect as tlsConnect, ConnectionOptions } from 'node:tls';
import type { RedisOptions } from 'ioredis';
import type { StreamEntry } from './redis-streams.service';
import { XrangeReplyReader } from './xrange-reply';

/** Where and how to connect: taken from the command connection's options, so the same URL applies. */
export interface HistoryConnectionOptions {
  host: string;
  port: number;
  /** A Unix socket instead of host and port. */
  path?: string;
  family?: number;
  /** TLS (`rediss://`): options for tls.connect, `true` for the defaults. */
  tls?: ConnectionOptions | true;
  username?: string;
  password?: string;
  db?: number;
  /** CLIENT SETNAME. */
  name: string;
  connectTimeoutMs: number;
  /** A command unanswered this long fails (0 = wait forever). */
  commandTimeoutMs: number;
}

/** What the owner hears of the connection (RedisConnections logs it as it does for the others). */
export interface ConnectionEvents {
  /** The connection was lost or refused (not on `close()`). */
  lost(err: Error): void;
  /** Connected and logged in. */
  ready(): void;
}

const READ_BUFFER_BYTES = 64 * 1024;
/** AUTH answers that mean "no password needed here" (ioredis goes on after them too). */
const NOT_REFUSED =
  /no password is set|without any password configured for the default user|wrong number of arguments for 'auth'/;

function encode(args: string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return out;
}

/**
 * A Redis connection that sends only XRANGE, for reading history: its replies are read by
 * `XrangeReplyReader` into entries whose payloads share page buffers, without the general parser's
 * per-entry arrays and per-read buffer copies. Without TLS, the socket reads into one reused
 * buffer. It connects when asked, after a drop on the next command. A lost connection fails every
 * command in flight, a command unanswered in `commandTimeoutMs` fails alone, with messages
 * `isRedisUnavailable` knows (`Connection is closed (<cause>)`, `Command timed out`).
 */
export class HistoryConnection {
  private socket: Socket | null = null;
  private reader = new XrangeReplyReader();
  private closed = false;

  constructor(
    private readonly options: HistoryConnectionOptions,
    private readonly events?: ConnectionEvents,
  ) {}

  /** The options of an ioredis client (its parsed URL) for this connection. */
  static optionsOf(redis: RedisOptions, name: string, commandTimeoutMs: number): HistoryConnectionOptions {
    return {
      host: redis.host ?? 'localhost',
      port: redis.port ?? 6379,
      path: redis.path,
      family: redis.family,
      tls: redis.tls,
      username: redis.username,
      password: redis.password,
      db: redis.db,
      name,
      connectTimeoutMs: redis.connectTimeout ?? 10_000,
      commandTimeoutMs,
    };
  }

  /** Opens the connection now rather than on the first command. */
  open(): void {
    if (!this.socket && !this.closed) this.socket = this.dial();
  }

  /** XRANGE key start end [COUNT count]: entries with payload field `d` (else the first value). */
  xrange(key: string, start: string, end: string, count?: number): Promise<StreamEntry[]> {
    if (this.closed) return Promise.reject(new Error('Connection is closed'));
    try {
      this.open();
    } catch (err) {
      // Options tls.connect refuses (a bad certificate file, say): this read fails, not the caller.
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const args = ['XRANGE', key, start, end];
    if (count !== undefined) args.push('COUNT', String(count));
    return new Promise((resolve, reject) => {
      this.send(this.socket!, args, key, (reply) => {
        if (reply instanceof Error) reject(reply);
        else resolve(reply as StreamEntry[]);
      });
    });
  }

  /** Closes the connection; commands in flight fail. */
  close(): void {
    this.closed = true;
    if (this.socket) this.drop(this.socket, new Error('Connection is closed'));
  }

  private send(
    socket: Socket,
    args: string[],
    key: string | null,
    done: (reply: StreamEntry[] | string | Error) => void,
  ): void {
    // As ioredis's commandTimeout: the late command fails alone; its reply, when it comes, is read
    // and dropped.
    let settled = false;
    const finish = (reply: StreamEntry[] | string | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done(reply);
    };
    const { commandTimeoutMs } = this.options;
    const timer =
      commandTimeoutMs > 0 ? setTimeout(() => finish(new Error('Command timed out')), commandTimeoutMs) : undefined;
    this.reader.expect({ key, done: finish });
    socket.write(encode(args));
  }

  private dial(): Socket {
    const o = this.options;
    this.reader = new XrangeReplyReader();
    let socket: Socket;
    if (o.tls) {
      socket = tlsConnect({ host: o.host, port: o.port, path: o.path, ...(o.tls === true ? {} : o.tls) });
      socket.on('data', (chunk: Buffer) => this.feed(socket, chunk));
    } else {
      const onread = {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        callback: (length: number, buffer: Uint8Array): boolean => {
          this.feed(socket, (buffer as Buffer).subarray(0, length));
          return true;
        },
      };
      socket = o.path
        ? netConnect({ path: o.path, onread })
        : netConnect({ host: o.host, port: o.port, family: o.family ?? 0, onread });
    }
    socket.setNoDelay(true);
    socket.setTimeout(o.connectTimeoutMs, () =>
      this.drop(socket, new Error('Connection is closed (connect ETIMEDOUT)')),
    );
    socket.once(o.tls ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      socket.setKeepAlive(true, 0);
    });
    // One message for every way the socket fails (ECONNREFUSED, ECONNRESET, EPIPE, ...), which
    // `isRedisUnavailable` knows, with the cause after it.
    socket.on('error', (err) => this.drop(socket, new Error(`Connection is closed (${err.message})`, { cause: err })));
    socket.on('close', () => this.drop(socket, new Error('Connection is closed')));
    // Sent ahead of any command, in order. A refused login or database drops the connection; as
    // with ioredis, a password Redis does not ask for is not a refusal, nor is a refused name
    // (CLIENT renamed or not allowed).
    const required = (reply: StreamEntry[] | string | Error): void => {
      if (reply instanceof Error && !NOT_REFUSED.test(reply.message)) this.drop(socket, reply);
    };
    if (o.username || o.password) {
      const auth = o.username ? ['AUTH', o.username, o.password ?? ''] : ['AUTH', o.password!];
      this.send(socket, auth, null, required);
    }
    if (o.db) this.send(socket, ['SELECT', String(o.db)], null, required);
    // Its reply, whatever it is, comes after the login's: the connection is ready.
    this.send(socket, ['CLIENT', 'SETNAME', o.name], null, () => {
      if (socket === this.socket) this.events?.ready();
    });
    return socket;
  }

  private feed(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    try {
      this.reader.feed(chunk);
    } catch (err) {
      this.drop(socket, err as Error);
    }
  }

  /** Ends `socket` (if it is still the current one) and fails what waits on it with `err`. */
  private drop(socket: Socket, err: Error): void {
    if (socket !== this.socket) return;
    this.socket = null;
    socket.destroy();
    this.reader.failAll(err);
    if (!this.closed) this.events?.lost(err);
  }
}
