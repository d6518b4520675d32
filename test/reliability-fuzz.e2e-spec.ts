import { CodecError, OffsetsMode, parsePushHeader, planEntries, splitBlob } from '../src/data-gateway/push-codec';
import { isValidStreamId } from '../src/streams/stream-id';
import { redisClient, startApp, startRedis, tokenFor } from './harness';
import { rng } from './support/prng';
import { LONG } from './support/reliability';
import { TestSocket } from './support/ws-client';

/**
 * RELIABILITY.md §7: a seeded fuzz of the push header codec and of the WebSocket push endpoint.
 * Seed with FUZZ_SEED=<n> to replay a run; case counts grow with RELIABILITY_LONG=1.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const CODEC_CASES = LONG ? 100_000 : 5_000;
const SOCKET_CASES = LONG ? 2_000 : 200;

type Rand = () => number;
const int = (r: Rand, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];

const BAD_STREAMS = ['..', 'a/../b', ':stream:meta:x', 'a b', '', 'x'.repeat(201), 'a\nb', 'a\u0000b', '*', 'é', '/x'];
const GARBAGE = [
  '[',
  ']',
  '[]',
  '{}',
  'null',
  '[[[]]]',
  '1e309',
  '-1',
  '[1.5]',
  '["1"]',
  '[-0]',
  ',',
  '0,,1',
  ' ',
  '[[1]]',
];

/** Offsets for `k` entries of a `len`-byte blob, in start or end form, sometimes broken. */
function offsets(r: Rand, len: number, k: number): unknown[] {
  const cuts = Array.from({ length: k - 1 }, () => int(r, len + 1)).sort((a, b) => a - b);
  const starts = [0, ...cuts];
  const ends = [...cuts, len];
  const list: unknown[] = r() < 0.5 ? starts : ends;
  if (r() < 0.1) {
    const i = int(r, list.length);
    list[i] = pick(r, [-1, len + 1 + int(r, 5), 1.5, '3', null, 2 ** 60, Infinity, [], {}]);
  }
  if (r() < 0.05) list.reverse();
  return list;
}

interface Ctx {
  /** stream ids the header may name (valid ones) */
  names: string[];
  /** next explicit id millisecond for this case */
  nextMs: number;
}

/** A header text: JSON flat, PTG comma list, rows with streams, rows with ids, or garbage. */
function header(r: Rand, len: number, ctx: Ctx): string {
  const k = 1 + int(r, 4);
  const form = int(r, 10);
  if (form === 0) return pick(r, GARBAGE);
  if (form === 1) return Array.from({ length: int(r, 8) }, () => String.fromCharCode(int(r, 0x3000))).join('');
  const offs = offsets(r, len, k);
  if (form <= 4) return JSON.stringify(offs);
  if (form === 5) return offs.map((o) => (typeof o === 'number' ? String(o) : 'x')).join(',');
  const rows = offs.map((o) => {
    const sid = r() < 0.05 ? pick(r, BAD_STREAMS) : pick(r, ctx.names);
    if (form <= 7) return [sid, o];
    let id: unknown = null;
    const which = int(r, 6);
    if (which === 1) id = '*';
    else if (which === 2) id = `${ctx.nextMs++}-0`;
    else if (which === 3)
      id = '1-1'; // too small once the stream has entries
    else if (which === 4) id = pick(r, ['abc', '-1', '0-0', 5, '1-x']);
    return [sid, id, o];
  });
  return JSON.stringify(rows);
}

describe('reliability: fuzzing the push header codec and endpoint', () => {
  it(`codec: ${CODEC_CASES} seeded cases throw nothing but CodecError and never plan a partial or out-of-blob batch`, () => {
    const r = rng(SEED);
    const counts = { ok: 0, codecError: 0 };
    for (let n = 0; n < CODEC_CASES; n++) {
      const len = int(r, 40);
      const ctx: Ctx = { names: ['x', 'y', 'cam/1', 'a.b'], nextMs: 1_700_000_000_000 };
      const text = header(r, len, ctx);
      const path = pick(r, [['x'], ['x', 'y'], null]);
      const mode = pick<OffsetsMode>(r, ['auto', 'start', 'end']);
      try {
        const items = parsePushHeader(text);
        const plan = planEntries(items, len, path, mode);
        const parts = splitBlob(Buffer.alloc(len), plan);
        // a plan covers the blob exactly, in order, with valid stream ids
        expect(plan.length).toBe(items.length);
        expect(plan[0].start).toBe(0);
        expect(plan[plan.length - 1].end).toBe(len);
        for (let i = 0; i < plan.length; i++) {
          if (i > 0) expect(plan[i].start).toBe(plan[i - 1].end);
          expect(isValidStreamId(plan[i].streamId)).toBe(true);
          expect(parts[i].length).toBe(plan[i].end - plan[i].start);
        }
        counts.ok++;
      } catch (err) {
        if (!(err instanceof CodecError)) {
          throw new Error(`case ${n} (seed ${SEED}) threw ${String(err)} for ${JSON.stringify(text)}`, {
            cause: err,
          });
        }
        counts.codecError++;
      }
    }
    expect(counts.ok).toBeGreaterThan(CODEC_CASES / 20);
    expect(counts.codecError).toBeGreaterThan(CODEC_CASES / 20);
    console.log(
      `[reliability §7 codec] seed=${SEED} cases=${CODEC_CASES} planned=${counts.ok} refused=${counts.codecError}`,
    );
  });

  it(`endpoint: ${SOCKET_CASES} random frame sequences with ack=1 store exactly the acked entries`, async () => {
    const redis = await startRedis();
    const svc = await startApp(redis.url, { STREAM_MAXLEN: '0', WS_MAX_PAYLOAD: '4096' });
    const check = redisClient(redis.url);
    const r = rng(SEED + 1);
    const codes = new Map<number, number>();
    let ackedTotal = 0;
    try {
      const token = await tokenFor(svc.http);
      for (let c = 0; c < SOCKET_CASES; c++) {
        const names = [`c${c}x`, `c${c}y`];
        const ctx: Ctx = { names, nextMs: 1_700_000_000_000 };
        const path = pick(r, [names[0], `${names[0]}+${names[1]}`, '*']);
        const q = `ack=1&header=${pick(r, ['auto', 'auto', '1', '0'])}&offsets=${pick(r, ['auto', 'start', 'end'])}`;
        const ws = await TestSocket.open(`${svc.ws}/data/${encodeURIComponent(path)}/push?${q}`, token);
        const acked: string[] = [];
        const frames = 1 + int(r, 8);
        for (let f = 0; f < frames && !ws.closed; f++) {
          const len = int(r, 24);
          const kind = int(r, 20);
          try {
            if (kind < 12) {
              await ws.send(header(r, len, ctx));
              await ws.send(Buffer.alloc(len, 65 + (f % 26)));
            } else if (kind < 15) {
              await ws.send(Buffer.alloc(len, 97));
            } else if (kind < 19) {
              await ws.send(header(r, len, ctx));
              continue; // a header alone: the next frame decides
            } else {
              await ws.send(Buffer.alloc(5000)); // over WS_MAX_PAYLOAD: 1009
            }
          } catch {
            break;
          }
          // a binary frame ends in an ack or a close; wait for whichever comes
          const ack = await ws.nextText(3000).catch(() => null);
          if (ack === null) break;
          acked.push(...ack.split(','));
        }
        if (!ws.closed) ws.close();
        const closed = await ws.closedWith(3000);
        codes.set(closed.code, (codes.get(closed.code) ?? 0) + 1);
        expect([1000, 1005, 1007, 1008, 1009, 1011]).toContain(closed.code);
        const stored: string[] = [];
        for (const name of names) {
          const entries = (await check.xrange(`default:${name}`, '-', '+')) as [string, string[]][];
          stored.push(...entries.map(([id]) => `${name}:${id}`));
        }
        // acks carry ids only; compare per case as multisets of ids
        const storedIds = stored.map((s) => s.slice(s.indexOf(':') + 1)).sort();
        expect({ case: c, ids: storedIds }).toEqual({ case: c, ids: [...acked].sort() });
        ackedTotal += acked.length;
      }
      // the service is still healthy and nothing outside the data keys was written
      expect((await fetch(`${svc.http}/health`)).status).toBe(200);
      const keys = await check.keys('*');
      expect(keys.filter((k) => !/^default:c\d+[xy]$/.test(k) && !k.startsWith(':'))).toEqual([]);
      const summary = [...codes.entries()].map(([k, v]) => `${k}:${v}`).join(' ');
      console.log(
        `[reliability §7 socket] seed=${SEED} cases=${SOCKET_CASES} acked-entries=${ackedTotal} closes ${summary}`,
      );
    } finally {
      check.disconnect();
      await svc.close();
      await redis.cleanup();
    }
  });
});
