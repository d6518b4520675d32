import { ENTRY_COST, RING_BUDGET, ReadHub } from '../src/streams/read-hub.service';
import { useService } from './harness';
import { TestSocket } from './support/ws-client';

const STREAMS = 16;
const ENTRIES = 160;
const SIZE = 32 * 1024;

/**
 * RELIABILITY.md §5: the read hub's rings share one memory budget, however many streams it
 * follows. 16 streams x 160 entries of 32 KiB (80 MiB) pass through the hub; its rings keep at most
 * RING_BUDGET (+ one entry per stream), and every reader still gets every entry in order.
 */
describe('read hub: ring memory', () => {
  const ctx = useService({ STREAM_MAXLEN: '0' });

  it(`holds at most ${RING_BUDGET / 1048576} MiB for ${STREAMS} streams of ${(ENTRIES * SIZE) / 1048576} MiB each`, async () => {
    const readers = await Promise.all(
      Array.from({ length: STREAMS }, (_, s) =>
        TestSocket.open(`${ctx.svc.ws}/data/ring${s}/pull?count=1000`, ctx.token),
      ),
    );
    const pipe = ctx.redis.pipeline();
    for (let i = 0; i < ENTRIES; i++)
      for (let s = 0; s < STREAMS; s++) pipe.xadd(`default:ring${s}`, '*', 'd', Buffer.alloc(SIZE, i));
    const ids = (await pipe.exec())!.map(([, id]) => id as string);

    await Promise.all(
      readers.map(async (r, s) => {
        const got: string[] = [];
        while (got.length < ENTRIES) {
          for (const e of await r.message(10000)) {
            expect(e.data.equals(Buffer.alloc(SIZE, got.length))).toBe(true);
            got.push(e.id);
          }
        }
        expect(got).toEqual(ids.filter((_, k) => k % STREAMS === s));
      }),
    );
    const hub = ctx.svc.app.get(ReadHub);
    expect(hub.size).toBe(STREAMS);
    expect(hub.ringBytes).toBeGreaterThan(0);
    expect(hub.ringBytes).toBeLessThanOrEqual(RING_BUDGET + STREAMS * (SIZE + ENTRY_COST));
    for (const r of readers) r.close();
  });
});
