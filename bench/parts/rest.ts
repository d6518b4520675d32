import { randomBytes } from 'node:crypto';
import { Measured, rawRead, rawXadd, timedLanes, writeHistory } from '../lib/baselines';
import { BenchContext, check, CPU_HEADERS, cpuColumns, PartResult } from '../lib/context';
import { CpuUse } from '../lib/procs';
import { ServiceProcess } from '../lib/service';
import { KiB, now, printTable, progress, ratio } from '../lib/stats';

const SIZE = KiB;
const HISTORY = 20_000;
const COUNT = 100;

/** POST /data/{sid} from `clients` concurrent loops for `ms`; `body()` makes one request's body. */
async function postLoop(
  svc: ServiceProcess,
  sid: string,
  clients: number,
  ms: number,
  perRequest: number,
  body: () => { body: Buffer | FormData; type?: string },
): Promise<Measured> {
  return timedLanes(clients, ms, SIZE, async () => {
    const { body: payload, type } = body();
    const headers: Record<string, string> = { Authorization: `Bearer ${svc.token}` };
    if (type) headers['content-type'] = type;
    const res = await fetch(`${svc.http}/data/${sid}`, { method: 'POST', headers, body: payload });
    if (res.status !== 201) throw new Error(`POST /data/${sid}: HTTP ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    return perRequest;
  });
}

/** GET /data/{sid} long-poll from 0 with count=100, following x-last-entry-id until `n` entries. */
async function getHistory(svc: ServiceProcess, sid: string, n: number): Promise<number> {
  let cursor = '0';
  let got = 0;
  const t0 = now();
  while (got < n) {
    const res = await fetch(`${svc.http}/data/${sid}?last_entry_id=${cursor}&count=${COUNT}&block=1000`, {
      headers: { Authorization: `Bearer ${svc.token}` },
    });
    if (res.status !== 200) throw new Error(`GET /data/${sid}: HTTP ${res.status} ${await res.text()}`);
    got += (await res.arrayBuffer()).byteLength / SIZE;
    cursor = res.headers.get('x-last-entry-id')!;
  }
  return got / ((now() - t0) / 1000);
}

/** REST /data: POST (raw body and multipart) and GET long-poll, against the raw Redis baselines. */
export async function rest(ctx: BenchContext): Promise<PartResult> {
  const cellMs = ctx.duration(2);
  return ctx.withService('rest', async (svc) => {
    const probe = await fetch(`${svc.http}/data/rest-probe`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${svc.token}`, 'content-type': 'application/octet-stream' },
      body: 'probe',
    });
    if (probe.status === 404) {
      const reason = `POST /data/{sid} answers 404: the REST data endpoints are not in this build of the service`;
      printTable('REST /data', ['result'], [[`skipped: ${reason}`]]);
      return { part: 'rest', skipped: reason, cells: [], targets: [] };
    }
    const payload = randomBytes(SIZE);
    const rows: { what: string; entriesPerSec: number; baseline: string; base: number; cpu: CpuUse }[] = [];
    const measure = async <T>(what: string, fn: () => Promise<T>): Promise<[T, CpuUse]> => {
      progress(`rest: ${what}`);
      const meter = ctx.meter(svc);
      const r = await fn();
      return [r, meter.stop()];
    };
    // Warm-up (JIT, keep-alive connections), not reported.
    await postLoop(svc, 'rest-warm', 16, 300, 1, () => ({ body: payload, type: 'application/octet-stream' }));
    const [raw, rawCpu] = await measure('raw pipelined XADD 1 KiB', () => rawXadd(ctx.redis, SIZE, 100, cellMs));
    rows.push({ what: 'raw pipelined XADD', entriesPerSec: raw.entriesPerSec, baseline: '-', base: 0, cpu: rawCpu });
    const [single, singleCpu] = await measure('POST octet-stream, 16 clients', () =>
      postLoop(svc, 'rest-post', 16, cellMs, 1, () => ({ body: payload, type: 'application/octet-stream' })),
    );
    rows.push({
      what: 'POST octet-stream (1 entry), 16 clients',
      entriesPerSec: single.entriesPerSec,
      baseline: 'raw XADD',
      base: raw.entriesPerSec,
      cpu: singleCpu,
    });
    const [multi, multiCpu] = await measure('POST multipart ×100, 4 clients', () =>
      postLoop(svc, 'rest-multi', 4, cellMs, 100, () => {
        const form = new FormData();
        for (let i = 0; i < 100; i++) form.append('entries', new Blob([payload]), `e${i}`);
        return { body: form };
      }),
    );
    rows.push({
      what: 'POST multipart (100 entries), 4 clients',
      entriesPerSec: multi.entriesPerSec,
      baseline: 'raw XADD',
      base: raw.entriesPerSec,
      cpu: multiCpu,
    });
    await writeHistory(ctx.redis, 'default:rest-history', SIZE, HISTORY);
    const [xread, xreadCpu] = await measure('raw XREAD COUNT 100', () =>
      rawRead(ctx.redis, 'default:rest-history', HISTORY, COUNT),
    );
    rows.push({
      what: `raw XREAD COUNT 100 (${HISTORY.toLocaleString('en-US')} from 0)`,
      entriesPerSec: xread,
      baseline: '-',
      base: 0,
      cpu: xreadCpu,
    });
    const [get, getCpu] = await measure('GET long-poll count=100 from 0', () =>
      getHistory(svc, 'rest-history', HISTORY),
    );
    rows.push({
      what: `GET count=100 (${HISTORY.toLocaleString('en-US')} from 0)`,
      entriesPerSec: get,
      baseline: 'raw XREAD',
      base: xread,
      cpu: getCpu,
    });
    printTable(
      'REST /data/{sid}: 1 KiB entries',
      ['request', 'entries/s', 'MB/s', 'ratio', 'baseline', ...CPU_HEADERS],
      rows.map((r) => [
        r.what,
        r.entriesPerSec,
        ((r.entriesPerSec * SIZE) / 1e6).toFixed(1),
        ratio(r.entriesPerSec, r.base || undefined),
        r.baseline,
        ...cpuColumns(r.cpu, r.entriesPerSec),
      ]),
    );
    return {
      part: 'rest',
      cells: rows,
      targets: [
        check(
          'REST (no target in the issue)',
          `POST ${ratio(single.entriesPerSec, raw.entriesPerSec)}, multipart ${ratio(multi.entriesPerSec, raw.entriesPerSec)} of raw XADD; GET ${ratio(get, xread)} of raw XREAD`,
          null,
        ),
      ],
    };
  });
}
