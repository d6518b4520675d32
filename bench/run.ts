/**
 * `npm run bench [-- part...] [--quick] [--profile] [--no-build | --ref=REV | --main=PATH] [--cells=REGEX]`: starts a private redis-server (no AOF), then
 * for each part a fresh `node dist/main.js`, and measures it from this process and from client
 * worker processes. Progress on stderr, tables on stdout, JSON in bench/results/<part>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { BenchContext, PartResult, RESULTS_DIR } from './lib/context';
import { cpuProbe, machineInfo } from './lib/procs';
import { buildRef, DIST_MAIN, ensureBuilt, startRedis } from './lib/service';
import { now, printTable, progress } from './lib/stats';
import { fanout } from './parts/fanout';
import { idle } from './parts/idle';
import { latency } from './parts/latency';
import { pull } from './parts/pull';
import { push } from './parts/push';
import { rest } from './parts/rest';

const PARTS: Record<string, (ctx: BenchContext) => Promise<PartResult>> = { push, pull, latency, fanout, idle, rest };

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined =>
    args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const ref = option('ref');
  const cells = option('cells');
  const flags = new Set(args.filter((a) => a.startsWith('--') && !a.includes('=')));
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = [
    ...names.filter((n) => !PARTS[n]),
    ...[...flags].filter((f) => !['--quick', '--profile', '--no-build'].includes(f)),
  ];
  if (unknown.length) {
    console.error(
      `unknown: ${unknown.join(' ')}; parts: ${Object.keys(PARTS).join(' ')}; flags: --quick --profile --no-build --ref=REV --main=PATH --cells=REGEX`,
    );
    process.exit(2);
  }
  const selected = names.length ? names : Object.keys(PARTS);
  const machine = machineInfo();
  progress(
    `machine: ${machine.nproc} × ${machine.cpuModel}, node ${machine.node}, redis ${machine.redis}, ulimit -n ${machine.ulimitNofile}, load ${machine.loadavg.join(' ')}`,
  );
  let main = DIST_MAIN;
  let service = 'dist/ as it is (--no-build)';
  if (option('main')) {
    main = resolve(option('main')!);
    service = `${main} (--main)`;
  } else if (ref) {
    const built = buildRef(ref);
    [main, service] = [built.main, `commit ${built.sha} (--ref=${ref})`];
  } else if (!flags.has('--no-build')) {
    main = ensureBuilt();
    service = 'the working tree (dist/, rebuilt when older than src/)';
  }
  progress(`service under test: ${service}`);
  const redisServer = await startRedis();
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  const ctx = new BenchContext(redisServer, redis, {
    quick: flags.has('--quick'),
    profile: flags.has('--profile'),
    main,
    cells: cells ? new RegExp(cells) : undefined,
  });
  mkdirSync(RESULTS_DIR, { recursive: true });
  const summary: [string, PartResult['targets'][number]][] = [];
  const t0 = now();
  try {
    for (const name of selected) {
      const started = now();
      const loadBefore = loadavg()[0];
      const probeBefore = cpuProbe();
      progress(`== ${name} (load average ${loadBefore.toFixed(2)}, CPU probe ${probeBefore} MB/s sha256)`);
      const result = await PARTS[name](ctx);
      const seconds = (now() - started) / 1000;
      if (result.skipped) progress(`${name} skipped: ${result.skipped}`);
      for (const t of result.targets) summary.push([name, t]);
      const record = {
        ...result,
        seconds,
        machine,
        service,
        loadavg: { before: loadBefore, after: loadavg()[0] },
        cpuProbeMBs: { before: probeBefore, after: cpuProbe() },
        at: new Date().toISOString(),
        quick: ctx.options.quick,
      };
      writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
      progress(`${name} done in ${seconds.toFixed(1)} s → bench/results/${name}.json`);
    }
  } finally {
    redis.disconnect();
    await redisServer.cleanup();
  }
  printTable(
    `Targets (issue 4) — ${machine.nproc} cores, load average now ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    ['part', 'target', 'measured', 'result'],
    summary.map(([part, t]) => [part, t.target, t.measured, t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'FAIL']),
  );
  progress(`all done in ${((now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
