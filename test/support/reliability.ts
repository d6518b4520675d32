import Redis from 'ioredis';
import { TestSocket } from './ws-client';

/** Helpers shared by the reliability suites: reconnecting pushers and readers with their own cursors. */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const LONG = process.env.RELIABILITY_LONG === '1';

/** Polls `GET /health` until it answers `status` (or `ms` pass); returns the status seen last. */
export async function healthBecomes(http: string, status: number, ms = 15000): Promise<number> {
  const deadline = Date.now() + ms;
  let last = 0;
  while (Date.now() < deadline) {
    last = await fetch(`${http}/health`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (last === status) return last;
    await sleep(100);
  }
  return last;
}

export interface PusherStats {
  device: string;
  acked: string[];
  batches: number;
  /** Batches sent whose ack never came (they may or may not be stored; never resent). */
  unacked: number;
  closeCodes: number[];
  reconnects: number;
}

/**
 * A device that pushes one 2-entry batch at a time with ack=1 until `stop()` says so, and
 * reconnects (every `retryMs`) when its socket closes or cannot open. `url(dev)` gives the push URL.
 */
export function runPusher(
  url: () => string,
  token: string,
  device: string,
  stop: () => boolean,
  retryMs = 100,
): { stats: PusherStats; done: Promise<void> } {
  const stats: PusherStats = { device, acked: [], batches: 0, unacked: 0, closeCodes: [], reconnects: 0 };
  const done = (async () => {
    let n = 0;
    while (!stop()) {
      let ws: TestSocket;
      try {
        ws = await TestSocket.open(url(), token);
      } catch {
        await sleep(retryMs);
        continue;
      }
      stats.reconnects++;
      while (!stop()) {
        const a = Buffer.from(`${device}-${n}-a`);
        const b = Buffer.from(`${device}-${n}-b`);
        n++;
        stats.batches++;
        try {
          await ws.send(`[${a.length},${a.length + b.length}]`);
          await ws.send(Buffer.concat([a, b]));
          const ack = await ws.nextText(5000);
          stats.acked.push(...ack.split(','));
        } catch {
          stats.unacked++;
          break;
        }
      }
      if (!ws.closed) ws.close();
      const closed = await ws.closedWith(5000).catch(() => ({ code: -1 }));
      stats.closeCodes.push(closed.code);
      if (!stop()) await sleep(retryMs);
    }
  })();
  return { stats, done };
}

export interface ReaderStats {
  ids: string[];
  payloads: string[];
  reconnects: number;
  closeCodes: number[];
}

/**
 * A reader of one stream from `start`, which reconnects from its own last id when its socket
 * closes, until `stop()`. Every entry it ever received is recorded in order.
 */
export function runReader(
  url: (cursor: string) => string,
  token: string,
  start: string,
  stop: () => boolean,
  retryMs = 100,
): { stats: ReaderStats; done: Promise<void> } {
  const stats: ReaderStats = { ids: [], payloads: [], reconnects: 0, closeCodes: [] };
  const done = (async () => {
    let cursor = start;
    while (!stop()) {
      let ws: TestSocket;
      try {
        ws = await TestSocket.open(url(cursor), token);
      } catch {
        await sleep(retryMs);
        continue;
      }
      stats.reconnects++;
      while (!stop()) {
        // a message is a header frame and its blob: take it only once both are here
        if (ws.frames.length < 2) {
          if (ws.closed) break;
          await sleep(20);
          continue;
        }
        for (const e of await ws.message()) {
          stats.ids.push(e.id);
          stats.payloads.push(e.data.toString());
          cursor = e.id;
        }
      }
      if (!ws.closed) ws.close();
      const closed = await ws.closedWith(5000).catch(() => ({ code: -1 }));
      stats.closeCodes.push(closed.code);
    }
  })();
  return { stats, done };
}

/** Scrapes one sample of a Prometheus text exposition. */
export function metric(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [key, value] = line.split(' ');
    if (key === `${name}${labels}`) return Number(value);
  }
  return undefined;
}

/** Pushers and readers of one stream on several devices, as the fault tests run them. */
export interface Fleet {
  devices: string[];
  pushers: { stats: PusherStats; done: Promise<void> }[];
  readers: ({ device: string } & { stats: ReaderStats; done: Promise<void> })[];
  /** Stops the pushers and waits for them. */
  stopPushing(): Promise<void>;
  /** Waits until every reader has `stored` of its device (15 s at most), then stops them. */
  drainReaders(stored: Map<string, string[]>): Promise<void>;
  /** Stops everything without waiting (for `finally`). */
  abort(): void;
}

/**
 * `devices` pushers with ack=1 on `{device}:{stream}` and `readersPerDevice` readers of each from
 * 0, against the WebSocket base URL `ws` (a function: the service may move between restarts).
 */
export function startFleet(ws: () => string, token: string, stream: string, devices = 10, readersPerDevice = 5): Fleet {
  let stopPush = false;
  let stopRead = false;
  const names = Array.from({ length: devices }, (_, i) => `dev${i}`);
  const pushers = names.map((d) =>
    runPusher(
      () => `${ws()}/data/${stream}/push?ack=1&device_id=${d}`,
      token,
      d,
      () => stopPush,
    ),
  );
  const readers = names.flatMap((d) =>
    Array.from({ length: readersPerDevice }, () => ({
      device: d,
      ...runReader(
        (cursor) => `${ws()}/data/${stream}/pull?count=100&device_id=${d}&last_entry_id=${cursor}`,
        token,
        '0',
        () => stopRead,
      ),
    })),
  );
  return {
    devices: names,
    pushers,
    readers,
    async stopPushing() {
      stopPush = true;
      await Promise.all(pushers.map((p) => p.done));
    },
    async drainReaders(stored) {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && readers.some((r) => r.stats.ids.length < stored.get(r.device)!.length)) {
        await sleep(100);
      }
      stopRead = true;
      await Promise.all(readers.map((r) => r.done));
    },
    abort() {
      stopPush = stopRead = true;
    },
  };
}

/** The ids stored in `{device}:{stream}` for each device. */
export async function storedIds(redisUrl: string, devices: string[], stream: string): Promise<Map<string, string[]>> {
  const check = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const stored = new Map<string, string[]>();
    for (const d of devices) {
      const entries = (await check.xrange(`${d}:${stream}`, '-', '+')) as [string, string[]][];
      stored.set(
        d,
        entries.map(([id]) => id),
      );
    }
    return stored;
  } finally {
    check.disconnect();
  }
}

/** What a fleet run through a fault left: the fleet, the ids stored per device, and the acks before the fault. */
export interface FaultRun {
  fleet: Fleet;
  stored: Map<string, string[]>;
  ackedBefore: number;
}

/**
 * A fleet on `stream` through a fault: `phaseMs` of load, `fault()`, `phaseMs` more; then the
 * pushers stop and the readers catch up with everything stored. The fleet is stopped if any step
 * throws.
 */
export async function runThroughFault(
  ws: () => string,
  token: string,
  redisUrl: string,
  stream: string,
  phaseMs: number,
  fault: () => Promise<void>,
): Promise<FaultRun> {
  const fleet = startFleet(ws, token, stream);
  try {
    await sleep(phaseMs);
    const ackedBefore = fleet.pushers.reduce((n, p) => n + p.stats.acked.length, 0);
    await fault();
    await sleep(phaseMs);
    await fleet.stopPushing();
    const stored = await storedIds(redisUrl, fleet.devices, stream);
    await fleet.drainReaders(stored);
    return { fleet, stored, ackedBefore };
  } catch (err) {
    fleet.abort();
    throw err;
  }
}

/**
 * What every fault test asks of the pushers: each acked id is stored, batches (2 entries) are
 * whole, and each pusher reconnected at least once after the fault. Returns their totals.
 */
export function checkPushers(run: FaultRun): { acked: number; unacked: number; codes: Set<number>; entries: number } {
  let acked = 0;
  let unacked = 0;
  const codes = new Set<number>();
  for (const p of run.fleet.pushers) {
    const ids = run.stored.get(p.stats.device)!;
    const have = new Set(ids);
    expect(p.stats.acked.filter((id) => !have.has(id))).toEqual([]);
    expect(ids.length % 2).toBe(0);
    expect(p.stats.reconnects).toBeGreaterThanOrEqual(2);
    acked += p.stats.acked.length;
    unacked += p.stats.unacked;
    p.stats.closeCodes.forEach((c) => codes.add(c));
  }
  const entries = [...run.stored.values()].reduce((n, s) => n + s.length, 0);
  return { acked, unacked, codes, entries };
}
