import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { freePort, RedisServerProcess } from '../../src/redis/redis-server.launcher';
import { progress, sleep } from './stats';

/** The repository root (this file runs from dist-bench/bench/lib). */
export const ROOT = resolve(__dirname, '../../..');
export const DIST_MAIN = join(ROOT, 'dist/main.js');
const BUILD_STAMP = join(ROOT, 'dist-bench/.service-build');
const BENCH_SECRET = 'bench-secret-0123456789-0123456789-0123456789';

function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, ext));
    else if (e.name.endsWith(ext) && !e.name.endsWith('.spec.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Runs `npm run build` when dist/ is missing or older than src/. */
export function ensureBuilt(): string {
  const built = existsSync(DIST_MAIN)
    ? Math.max(newestMtime(join(ROOT, 'dist'), '.js'), existsSync(BUILD_STAMP) ? statSync(BUILD_STAMP).mtimeMs : 0)
    : 0;
  if (built >= newestMtime(join(ROOT, 'src'), '.ts')) return DIST_MAIN;
  progress('dist/ is missing or older than src/: npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (r.status !== 0)
    throw new Error('npm run build failed (--ref=HEAD benchmarks the last commit, --no-build dist/ as it is)');
  writeFileSync(BUILD_STAMP, new Date().toISOString());
  return DIST_MAIN;
}

/**
 * Builds a commit's `src/` on its own (git archive into dist-bench/ref/<sha>, compiled with the
 * repository's node_modules), so that a benchmark can measure exactly a commit, e.g. before and
 * after a change, whatever the working tree holds. Returns its main.js.
 */
export function buildRef(ref: string): { main: string; sha: string } {
  const git = (...args: string[]): string => {
    const r = spawnSync('git', args, { cwd: ROOT });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.toString()}`);
    return r.stdout.toString().trim();
  };
  const sha = git('rev-parse', '--verify', `${ref}^{commit}`);
  const dir = join(ROOT, 'dist-bench/ref', sha.slice(0, 12));
  const main = join(dir, 'dist/main.js');
  if (existsSync(main)) return { main, sha };
  progress(`building ${ref} (${sha.slice(0, 12)}) in ${dir}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = ['src', 'tsconfig.json', 'tsconfig.build.json'];
  const r = spawnSync('sh', ['-c', `git archive ${sha} ${files.join(' ')} | tar -x -C "${dir}"`], { cwd: ROOT });
  if (r.status !== 0) throw new Error(`git archive ${sha}: ${r.stderr.toString()}`);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const tsc = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: dir,
      stdio: ['ignore', 2, 2],
    },
  );
  if (tsc.status !== 0 || !existsSync(main)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${ref} does not compile`);
  }
  return { main, sha };
}

/** A private redis-server without AOF or snapshots on a free loopback port. */
export async function startRedis(): Promise<RedisServerProcess & { cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'rs-bench-redis-'));
  const server = await RedisServerProcess.start({ dir, appendonly: false });
  return Object.assign(server, {
    async cleanup(): Promise<void> {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

export interface ServiceOptions {
  /** The service's main.js (dist/main.js by default). */
  main?: string;
  /** Write a V8 CPU profile of the service to this file. */
  profile?: string;
  env?: Record<string, string>;
}

/** `node dist/main.js` in its own process, so that the load generator does not share its core. */
export class ServiceProcess {
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly token: string,
    private readonly profiled: boolean,
  ) {
    this.exited = new Promise((done) => child.once('exit', () => done()));
  }

  get http(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get ws(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(redisUrl: string, options: ServiceOptions = {}): Promise<ServiceProcess> {
    const port = await freePort();
    const args: string[] = [];
    if (options.profile) {
      args.push('--cpu-prof', `--cpu-prof-dir=${resolve(options.profile, '..')}`);
      args.push(`--cpu-prof-name=${options.profile.split('/').pop()}`);
      // Nest re-raises SIGTERM after closing; this makes that a normal exit so the profile is written.
      args.push('--require', join(__dirname, 'exit-on-term.js'));
    }
    // A scratch working directory: main.ts would load a developer's .env from the repository root.
    const cwd = mkdtempSync(join(tmpdir(), 'rs-bench-svc-'));
    const child = spawn(process.execPath, [...args, options.main ?? DIST_MAIN], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: String(port),
        REDIS_URL: redisUrl,
        JWT_SECRET: BENCH_SECRET,
        AUTH_DEV_MODE: 'true',
        LOG_LEVEL: 'warn',
        // Every bench socket belongs to one user; the defaults (1,000 per user) are a policy, not a limit.
        WS_MAX_CONNECTIONS: '20000',
        WS_MAX_CONNECTIONS_PER_USER: '20000',
        ...options.env,
      },
    });
    let output = '';
    const forward = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
      for (const line of chunk.toString().split('\n')) if (line.trim()) process.stderr.write(`  [service] ${line}\n`);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    const died = new Promise<never>((_, fail) =>
      child.once('exit', (code) => fail(new Error(`service exited (${code}) during start: ${output}`))),
    );
    died.catch(() => undefined);
    const http = `http://127.0.0.1:${port}`;
    const ready = async (): Promise<void> => {
      for (let i = 0; i < 300; i++) {
        try {
          if ((await fetch(`${http}/health`)).status === 200) return;
        } catch {
          // not listening yet
        }
        await sleep(100);
      }
      throw new Error('service did not become healthy in 30 s');
    };
    try {
      await Promise.race([ready(), died]);
      const token = await Promise.race([tokenFor(http), died]);
      rmSync(cwd, { recursive: true, force: true });
      return new ServiceProcess(child, port, token, !!options.profile);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  /** Graceful stop (SIGTERM), SIGKILL after 15 s (60 s when profiled: the profile is written at exit). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), this.profiled ? 60_000 : 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A token from the service (development mode: username == password). */
async function tokenFor(http: string): Promise<string> {
  const res = await fetch(`${http}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'bench', password: 'bench' }),
  });
  if (res.status !== 200) throw new Error(`token: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Connections Redis has open for the service (they are named `redis-streamer:*`), and in all. */
export async function redisConnections(redis: Redis): Promise<{ service: number; total: number }> {
  const lines = ((await redis.client('LIST')) as string).trim().split('\n');
  return { service: lines.filter((l) => / name=redis-streamer:/.test(l)).length, total: lines.length };
}

/** Total entries ever added to a stream (XINFO STREAM entries-added; 0 when it does not exist). */
export async function entriesAdded(redis: Redis, key: string): Promise<number> {
  try {
    const info = (await redis.call('XINFO', 'STREAM', key)) as unknown[];
    return Number(info[info.indexOf('entries-added') + 1]);
  } catch {
    return 0;
  }
}
