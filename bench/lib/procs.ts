import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { now } from './stats';

const TICKS_PER_S = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** CLOCK_MONOTONIC in microseconds: the clock of a V8 CPU profile's startTime. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Resident set size of a process in KiB (VmRSS of /proc/<pid>/status). */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** User + system CPU time of a process, in seconds. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  } catch {
    return 0; // gone
  }
}

/** Busy CPU time of the whole machine (all cores), in seconds. */
function machineBusySeconds(): number {
  const [, ...v] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const t = v.map(Number);
  const total = t.reduce((a, b) => a + b, 0);
  return (total - t[3] - t[4]) / TICKS_PER_S;
}

export type CpuUse = Record<string, number> & { machine: number; others: number };

/**
 * CPU used during a window, in cores (1.0 = one core fully busy), per named process of ours,
 * by the whole machine, and by everything else on it (other engineers' runs share the 2 cores).
 */
export class CpuMeter {
  private readonly start: Map<string, number>;
  private readonly machine0 = machineBusySeconds();
  private readonly t0 = now();

  constructor(private readonly pids: Record<string, number | undefined>) {
    this.start = new Map(Object.entries(pids).map(([name, pid]) => [name, pid ? cpuSeconds(pid) : 0]));
  }

  stop(): CpuUse {
    const secs = (now() - this.t0) / 1000;
    const use: Record<string, number> = {};
    let ours = 0;
    for (const [name, pid] of Object.entries(this.pids)) {
      const cores = pid ? (cpuSeconds(pid) - this.start.get(name)!) / secs : 0;
      use[name] = cores;
      ours += cores;
    }
    const machine = (machineBusySeconds() - this.machine0) / secs;
    return Object.assign(use, { machine, others: Math.max(0, machine - ours) });
  }
}

export const pct = (cores: number | undefined): string => (cores === undefined ? '-' : `${Math.round(cores * 100)}%`);

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  node: string;
  redis: string;
  ulimitNofile: string;
  loadavg: number[];
}

export function machineInfo(): MachineInfo {
  const redis = spawnSync('redis-server', ['--version']).stdout?.toString() ?? '';
  return {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    redis: /v=(\S+)/.exec(redis)?.[1] ?? 'unknown',
    ulimitNofile: spawnSync('sh', ['-c', 'ulimit -n']).stdout?.toString().trim() ?? '?',
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/**
 * How fast one core of this machine is right now: SHA-256 throughput in MB/s over ~32 MiB. The
 * cores are shared with other people's work (and a VM's host), so each part records this beside
 * its load average: a slow probe explains slow numbers.
 */
export function cpuProbe(): number {
  const block = Buffer.alloc(1024 * 1024, 7);
  const t0 = now();
  for (let i = 0; i < 32; i++) createHash('sha256').update(block).digest();
  return Math.round((32 * 1.048576) / ((now() - t0) / 1000));
}
