import { Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { ConnectionEvents, HistoryConnection } from './history-connection';
import { RedisServerProcess } from './redis-server.launcher';

/**
 * Owns every Redis connection of the process: the shared command connection (never used for
 * blocking reads), the history connection (XRANGE with its own reply reader) and dedicated
 * connections for blocking reads, all closed on shutdown.
 */
export class RedisConnections implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnections.name);
  readonly command: Redis;
  readonly history: HistoryConnection;
  private readonly blocking = new Set<Redis>();

  /**
   * `embedded` is the service's own redis-server (no REDIS_URL): stopped after the clients.
   * `commandTimeoutMs` (REDIS_COMMAND_TIMEOUT_MS, 0 = none) fails a command on the shared
   * connection that Redis has not answered in time (a stalled Redis), so pushes end with 1011/503
   * instead of hanging; the command may still run later, so such a batch may be stored, unacked.
   */
  constructor(
    readonly url: string,
    private readonly embedded?: RedisServerProcess,
    commandTimeoutMs = 0,
  ) {
    this.command = this.connect('command', {
      ...(commandTimeoutMs > 0 ? { commandTimeout: commandTimeoutMs } : {}),
      // Fail fast while Redis is away instead of queueing writes that a client thinks are stored.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // Connected in onModuleInit, so a boot that fails earlier leaves no socket behind.
      lazyConnect: true,
    });
    this.history = new HistoryConnection(
      HistoryConnection.optionsOf(this.command.options, 'redis-streamer:history', commandTimeoutMs),
      this.reporter('history'),
    );
  }

  /** Waits briefly for Redis; a service whose Redis is away still starts, and /health says so. */
  async onModuleInit(): Promise<void> {
    this.history.open();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.command.connect().catch(() => undefined),
      new Promise((done) => (timer = setTimeout(done, 3000))),
    ]);
    clearTimeout(timer);
  }

  static backoff(attempt: number): number {
    return Math.min(50 * 2 ** Math.min(attempt, 6), 2000);
  }

  private connect(name: string, extra: RedisOptions): Redis {
    const client = new Redis(this.url, {
      connectionName: `redis-streamer:${name}`,
      retryStrategy: RedisConnections.backoff,
      ...extra,
    });
    const report = this.reporter(name);
    client.on('error', (err: Error) => report.lost(err));
    client.on('ready', () => report.ready());
    return client;
  }

  /** Logs a connection's first error of an outage and its return, not every retry in between. */
  private reporter(name: string): ConnectionEvents {
    let down = false;
    return {
      lost: (err) => {
        if (!down) this.logger.warn(`redis ${name} connection error: ${err.message}`);
        down = true;
      },
      ready: () => {
        if (down) this.logger.log(`redis ${name} connection ready again`);
        down = false;
      },
    };
  }

  /** A dedicated connection for blocking reads (XREAD BLOCK, XREADGROUP BLOCK). */
  createBlocking(name: string): Redis {
    const client = this.connect(name, { enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.blocking.add(client);
    client.once('end', () => this.blocking.delete(client));
    return client;
  }

  get ready(): boolean {
    return this.command.status === 'ready';
  }

  async ping(timeoutMs = 1000): Promise<boolean> {
    if (!this.ready) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await Promise.race([
        this.command.ping(),
        new Promise<never>((_, fail) => {
          timer = setTimeout(() => fail(new Error('ping timeout')), timeoutMs);
        }),
      ]);
      return reply === 'PONG';
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.history.close();
    const all = [this.command, ...this.blocking];
    await Promise.all(all.map((c) => c.quit().catch(() => c.disconnect())));
    if (this.embedded) {
      await this.embedded.stop();
      this.logger.log(`embedded redis-server on port ${this.embedded.port} stopped`);
    }
  }
}
