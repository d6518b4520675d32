import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { resolve } from 'node:path';

export interface LaunchOptions {
  /** Data directory (AOF files live here); created when missing. */
  dir: string;
  /** Fixed port; a free loopback port is picked when omitted. */
  port?: number;
  appendonly?: boolean;
  /** The executable, `redis-server` on PATH by default. */
  command?: string;
  /** Extra `redis-server` arguments, e.g. ['--maxmemory', '10mb']. */
  args?: string[];
}

export class RedisServerNotFoundError extends Error {
  constructor() {
    super(
      'redis-server was not found on PATH. Install it (Debian/Ubuntu: `apt-get install redis-server`, ' +
        'macOS: `brew install redis`) or set REDIS_URL to use an existing Redis.',
    );
  }
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}

/** A `redis-server` child process on loopback, used by `npm start` without REDIS_URL and by tests. */
export class RedisServerProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    private readonly command: string,
    readonly port: number,
    readonly dir: string,
    private readonly args: string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(options: LaunchOptions): Promise<RedisServerProcess> {
    const command = options.command ?? 'redis-server';
    if (spawnSync(command, ['--version']).error) throw new RedisServerNotFoundError();
    const dir = resolve(options.dir);
    mkdirSync(dir, { recursive: true });
    const args = [
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      options.appendonly === false ? 'no' : 'yes',
      '--save',
      '',
      '--daemonize',
      'no',
      '--protected-mode',
      'yes',
      ...(options.args ?? []),
    ];
    // A free port can be taken between the probe and the bind; try a few.
    for (let attempt = 0; ; attempt++) {
      const server = new RedisServerProcess(command, options.port ?? (await freePort()), dir, args);
      try {
        await server.boot();
        return server;
      } catch (err) {
        if (options.port !== undefined || attempt >= 4) throw err;
      }
    }
  }

  /** Starts (again, after a kill) on the same port and directory. */
  async boot(): Promise<void> {
    const child = spawn(this.command, ['--port', String(this.port), ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    // Never outlive the service, even when it exits without a clean shutdown.
    const reap = (): void => void child.kill('SIGKILL');
    process.once('exit', reap);
    this.exited = new Promise((done) =>
      child.once('exit', () => {
        process.off('exit', reap);
        done();
      }),
    );
    let output = '';
    await new Promise<void>((ready, fail) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          child.stdout?.off('data', onData);
          ready();
        }
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code) => fail(new Error(`redis-server exited (${code}): ${output.slice(-500)}`)));
      child.once('error', fail);
    });
    // Keep draining so a chatty server never blocks on a full pipe, without holding the process
    // open: a caller that forgets to stop it still exits, and the 'exit' hook above reaps it.
    child.stdout?.resume();
    child.stderr?.resume();
    child.unref();
    (child.stdout as Socket | null)?.unref();
    (child.stderr as Socket | null)?.unref();
  }

  /** SIGKILL, for fault tests; `boot()` brings it back with its AOF. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.ref(); // stay alive until Redis has shut down cleanly
    this.child.kill('SIGTERM');
    await this.exited;
  }
}
