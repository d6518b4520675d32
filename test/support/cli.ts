import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '../..');

/** The newest modification time of the files below `dir` (recursively). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * The CLI to run as a child process: `dist/cli/main.js` when the build is newer than its sources
 * (as in CI, which builds before testing), else the CLI and what it imports compiled to a
 * temporary directory, so that the tests always run the current sources.
 */
export async function compileCli(): Promise<{ main: string; cleanup(): void }> {
  const built = join(ROOT, 'dist/cli/main.js');
  const sources = Math.max(...['src/cli', 'src/client', 'src/redis'].map((d) => newest(join(ROOT, d))));
  if (existsSync(built) && Math.min(statSync(built).mtimeMs, newest(join(ROOT, 'dist/client'))) > sources) {
    return { main: built, cleanup: () => undefined };
  }
  const outDir = mkdtempSync(join(tmpdir(), 'rs-cli-'));
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const flags = ['--outDir', outDir, '--rootDir', join(ROOT, 'src'), '--module', 'commonjs'];
  flags.push('--moduleResolution', 'node', '--target', 'ES2022', '--esModuleInterop', '--skipLibCheck');
  flags.push('--strict', '--types', 'node');
  await promisify(execFile)(process.execPath, [tsc, ...flags, join(ROOT, 'src/cli/main.ts')]);
  return { main: join(outDir, 'cli/main.js'), cleanup: () => rmSync(outDir, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running `redis-streamer` child process whose output is collected as it comes. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (this.stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (this.stderr += c));
    this.exited = new Promise((done) =>
      child.on('close', (code) => done({ code, stdout: this.stdout, stderr: this.stderr })),
    );
  }

  /** The stdout lines so far (complete lines only). */
  lines(): string[] {
    return this.stdout.split('\n').slice(0, -1);
  }
}

/** Starts `node <main> ...args` with the repo's node_modules on NODE_PATH and `env` over this process's. */
export function startCli(main: string, args: string[], env: Record<string, string>, input?: string): CliProcess {
  const child = spawn(process.execPath, [main, ...args], {
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules'), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin?.end(input ?? '');
  return new CliProcess(child);
}
