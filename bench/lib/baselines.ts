import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { XADD_BATCH } from '../../src/redis/scripts';
import { now } from './stats';

/** The service's default STREAM_MAXLEN, applied by the raw write baseline too. */
export const MAXLEN = 1000;

export interface Measured {
  entries: number;
  seconds: number;
  entriesPerSec: number;
  mbPerSec: number;
}

export function measured(entries: number, size: number, ms: number): Measured {
  const seconds = ms / 1000;
  return { entries, seconds, entriesPerSec: entries / seconds, mbPerSec: (entries * size) / seconds / 1e6 };
}

/**
 * Runs `step` in `lanes` concurrent loops for `ms`; `step` stores entries and says how many.
 * Entries/s of `size` bytes over the whole run, including the last steps' completion.
 */
export async function timedLanes(lanes: number, ms: number, size: number, step: () => Promise<number>) {
  let entries = 0;
  const t0 = now();
  const lane = async (): Promise<void> => {
    while (now() < t0 + ms) {
      // Not `entries += await step()`: that reads `entries` before the await and loses the other lanes' counts.
      const n = await step();
      entries += n;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return measured(entries, size, now() - t0);
}

/**
 * The write ceiling: pipelined XADD ... MAXLEN ~ 1000 from this process on one connection,
 * pipelines of `batch` entries with 8 in flight, for `ms`.
 */
export async function rawXadd(redis: Redis, size: number, batch: number, ms: number): Promise<Measured> {
  const key = 'default:raw-push';
  const payload = randomBytes(size);
  const result = await timedLanes(8, ms, size, async () => {
    const p = redis.pipeline();
    for (let i = 0; i < batch; i++) p.xadd(key, 'MAXLEN', '~', MAXLEN, '*', 'd', payload);
    await p.exec();
    return batch;
  });
  await redis.del(key);
  return result;
}

/**
 * The ceiling of the service's own batch path: its XADD_BATCH Lua script (one EVALSHA per batch of
 * `batch` entries, MAXLEN ~ 1000) sent from this process, 8 in flight.
 */
export async function rawScript(redis: Redis, size: number, batch: number, ms: number): Promise<Measured> {
  const key = 'default:raw-script';
  const scripted = redis as Redis & { benchXaddBatch(...args: (string | Buffer)[]): Promise<string[]> };
  if (!('benchXaddBatch' in redis)) redis.defineCommand('benchXaddBatch', { lua: XADD_BATCH, numberOfKeys: 1 });
  const payload = randomBytes(size);
  const args: (string | Buffer)[] = [key, String(MAXLEN), ''];
  for (let i = 0; i < batch; i++) args.push('1', '*', payload);
  const result = await timedLanes(8, ms, size, async () => {
    await scripted.benchXaddBatch(...args);
    return batch;
  });
  await redis.del(key);
  return result;
}

/** Writes a history of `n` entries of `size` bytes with pipelined XADD, no trimming. */
export async function writeHistory(redis: Redis, key: string, size: number, n: number): Promise<void> {
  const payload = randomBytes(size);
  for (let done = 0; done < n; done += 1000) {
    const p = redis.pipeline();
    for (let i = 0; i < Math.min(1000, n - done); i++) p.xadd(key, '*', 'd', payload);
    await p.exec();
  }
}

/** The read ceiling: XREAD COUNT `count` from 0, one page per round trip; entries/s. */
export async function rawRead(redis: Redis, key: string, n: number, count: number): Promise<number> {
  let cursor = '0';
  let got = 0;
  const t0 = now();
  while (got < n) {
    const reply = (await redis.callBuffer('XREAD', 'COUNT', count, 'STREAMS', key, cursor)) as [
      Buffer,
      [Buffer, Buffer[]][],
    ][];
    const entries = reply[0][1];
    got += entries.length;
    cursor = entries[entries.length - 1][0].toString();
  }
  return got / ((now() - t0) / 1000);
}
