import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { RedisServerProcess } from '../../src/redis/redis-server.launcher';
import { CpuMeter, CpuUse, monotonicUs, pct } from './procs';
import { ROOT, ServiceProcess } from './service';
import { summarise } from '../profile';
import { num, progress, sleep } from './stats';

export const RESULTS_DIR = join(ROOT, 'bench/results');

/** One target of the issue, checked against what was measured. */
export interface TargetCheck {
  target: string;
  measured: string;
  /** null: not measured in this run. */
  pass: boolean | null;
}

export interface PartResult {
  part: string;
  /** Set when the part could not run, with the reason. */
  skipped?: string;
  /** One object per measured cell (also printed as a table). */
  cells: object[];
  targets: TargetCheck[];
  notes?: string[];
}

export interface BenchOptions {
  /** Durations scaled down (for trying the harness out; numbers are noisier). */
  quick: boolean;
  /** Write a CPU profile of the service for each part. */
  profile: boolean;
  /** The service's main.js. */
  main: string;
  /** Only the cells whose label matches (`--cells=REGEX`; push, latency and fanout cells). */
  cells?: RegExp;
}

/** What every part gets: the private Redis, an admin connection to it, and a service factory. */
export class BenchContext {
  /** Measured windows of the current service (CLOCK_MONOTONIC µs, the clock of V8 profiles). */
  private windows: [number, number][] = [];

  constructor(
    readonly redisServer: RedisServerProcess,
    readonly redis: Redis,
    readonly options: BenchOptions,
  ) {}

  /**
   * Waits (at most `maxMs`) until the service is idle again — below 10 % of a core over 250 ms —
   * so that a backlog left by an overloaded cell does not eat into the next one.
   */
  async settle(svc: ServiceProcess, maxMs = 30_000): Promise<void> {
    const end = Date.now() + maxMs;
    for (;;) {
      const meter = new CpuMeter({ service: svc.pid });
      await sleep(250);
      if (meter.stop().service < 0.1) return;
      if (Date.now() > end) return progress(`service still busy after ${maxMs / 1000} s; going on`);
    }
  }

  /** Whether a cell is selected by `--cells`. */
  wants(label: string): boolean {
    return !this.options.cells || this.options.cells.test(label);
  }

  /** `seconds` of measuring, in milliseconds (shorter with --quick). */
  duration(seconds: number): number {
    return Math.round(seconds * 1000 * (this.options.quick ? 0.3 : 1));
  }

  /** Runs `fn` against a fresh service process (profiled with --profile), with an empty Redis. */
  async withService<T>(
    part: string,
    fn: (svc: ServiceProcess) => Promise<T>,
    env?: Record<string, string>,
  ): Promise<T> {
    await this.redis.flushall();
    let profile: string | undefined;
    if (this.options.profile) {
      mkdirSync(join(RESULTS_DIR, 'profiles'), { recursive: true });
      profile = join(RESULTS_DIR, 'profiles', `${part}.cpuprofile`);
    }
    this.windows = [];
    const svc = await ServiceProcess.start(this.redisServer.url, { main: this.options.main, profile, env });
    progress(`service pid ${svc.pid} on port ${svc.port}${profile ? ` (profiling to ${profile})` : ''}`);
    try {
      return await fn(svc);
    } finally {
      await svc.stop();
      if (profile && existsSync(profile)) {
        writeFileSync(`${profile}.windows.json`, JSON.stringify(this.windows));
        progress(`profile written: ${profile}; hot spots while measuring:`);
        process.stderr.write(`${summarise(JSON.parse(readFileSync(profile, 'utf8')), 15, this.windows)}\n`);
      }
    }
  }

  /**
   * CPU use of the bench process, the service, Redis and `extra` from now until stop(). The window
   * is also what a profile summary counts (service start-up and set-up are left out).
   */
  meter(svc: ServiceProcess | null, extra: Record<string, number> = {}): { stop(): CpuUse } {
    const meter = new CpuMeter({ bench: process.pid, service: svc?.pid, redis: this.redisServer.pid, ...extra });
    const start = monotonicUs();
    return {
      stop: (): CpuUse => {
        if (svc) this.windows.push([start, monotonicUs()]);
        return meter.stop();
      },
    };
  }
}

/**
 * CPU columns of a table row: service, Redis, load generator (bench + client processes), other
 * users of the machine, and `rate` per core-second of service CPU, which moves much less than the
 * rate itself when other work competes for the two cores.
 */
export function cpuColumns(cpu: CpuUse, rate?: number): string[] {
  const clients = Object.entries(cpu)
    .filter(([k]) => !['service', 'redis', 'bench', 'machine', 'others'].includes(k))
    .reduce((a, [, v]) => a + v, 0);
  const perCore = rate !== undefined && cpu.service > 0.05 ? num(rate / cpu.service) : '-';
  return [pct(cpu.service), pct(cpu.redis), pct(cpu.bench + clients), pct(cpu.others), perCore];
}

export const CPU_HEADERS = ['svc CPU', 'redis CPU', 'load CPU', 'others CPU', 'per svc core'];

export const check = (target: string, measured: string, pass: boolean | null): TargetCheck => ({
  target,
  measured,
  pass,
});
