import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../src/redis/redis-server.launcher';
import { TEST_SECRET } from '../harness';

const ROOT = resolve(__dirname, '../..');

/**
 * Compiles src into a private temp dir (its own tsbuildinfo, so the repo's dist and incremental
 * state are untouched) and returns the path of its main.js. Takes ~10 s on 2 cores.
 */
async function buildService(): Promise<{ main: string; cleanup(): void }> {
  const out = mkdtempSync(join(tmpdir(), 'rs-service-build-'));
  await new Promise<void>((done, fail) =>
    execFile(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(ROOT, 'tsconfig.build.json'),
        '--outDir',
        out,
        '--tsBuildInfoFile',
        join(out, '.tsbuildinfo'),
      ],
      { cwd: ROOT },
      (err, stdout) => (err ? fail(new Error(`tsc failed: ${stdout}`)) : done()),
    ),
  );
  return { main: join(out, 'main.js'), cleanup: () => rmSync(out, { recursive: true, force: true }) };
}

/** CPU time (user + system) process `pid` has used so far, in seconds (from /proc, 100 ticks a second). */
/** The fixture of a file that runs the service as a child: built in `beforeAll`, removed after. */
export function useBuiltService(): { main: string } {
  const built = { main: '' };
  let cleanup: (() => void) | undefined;
  beforeAll(async () => {
    const b = await buildService();
    built.main = b.main;
    cleanup = () => b.cleanup();
  }, 60_000);
  afterAll(() => cleanup?.());
  return built;
}

export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The real service as a child process (`node main.js`) on a fixed port. */
export class ServiceProcess {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  stderr = '';

  private constructor(
    private readonly main: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get http(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get ws(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(main: string, redisUrl: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
    const svc = new ServiceProcess(main, await freePort(), {
      REDIS_URL: redisUrl,
      JWT_SECRET: TEST_SECRET,
      AUTH_DEV_MODE: 'true',
      AUTH_RATE_LIMIT: '10000',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      ...env,
    });
    await svc.boot();
    return svc;
  }

  /** Starts (or restarts) the process on the same port and waits until /health answers. */
  async boot(): Promise<void> {
    const cwd = mkdtempSync(join(tmpdir(), 'rs-service-cwd-'));
    const child = spawn(process.execPath, [this.main], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_PATH: join(ROOT, 'node_modules'),
        PORT: String(this.port),
        ...this.env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    child.stderr.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-20000)));
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`service exited ${child.exitCode}: ${this.stderr}`);
      const ok = await fetch(`${this.http}/health`).then(
        (r) => r.status > 0,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`service did not answer on ${this.port}: ${this.stderr}`);
  }

  /** SIGKILL: no shutdown hook runs. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM and wait (graceful shutdown); SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(t);
  }

  /** Resident set size of the process in bytes (from /proc). */
  rss(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
  }
}
