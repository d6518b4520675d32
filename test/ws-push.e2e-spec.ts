import Redis from 'ioredis';
import { useService } from './harness';
import { TestSocket } from './support/ws-client';

/** Field `d` of every entry of a stream, with ids. */
async function entries(redis: Redis, key: string): Promise<{ id: string; data: Buffer }[]> {
  const raw = (await redis.xrangeBuffer(key, '-', '+')) as [Buffer, Buffer[]][];
  return raw.map(([id, fields]) => ({ id: id.toString(), data: fields[1] }));
}

describe('WebSocket push', () => {
  const ctx = useService({ WS_MAX_PAYLOAD: String(1024 * 1024) });
  let n = 0;
  const sid = (): string => `s${++n}`;

  const push = (path: string, query = ''): Promise<TestSocket> =>
    TestSocket.open(`${ctx.svc.ws}/data/${path}/push${query}`, ctx.token);

  it('stores a Redis Streamer client header + blob and acks the id', async () => {
    const s = sid();
    const ws = await push(s, '?ack=1');
    const data = Buffer.from('hello world');
    await ws.send(JSON.stringify([data.length]));
    await ws.send(data);
    const ack = await ws.nextText();
    expect(ack).toMatch(/^\d+-\d+$/);
    expect(await entries(ctx.redis, `default:${s}`)).toEqual([{ id: ack, data }]);
    ws.close();
  });

  it('stores PTG binary frames (no header) and acks each', async () => {
    const s = sid();
    const ws = await push(s, '?ack=true');
    const payloads = [Buffer.from([0, 1, 2, 255]), Buffer.alloc(0), Buffer.from('x')];
    for (const p of payloads) await ws.send(p);
    const acks = [await ws.nextText(), await ws.nextText(), await ws.nextText()];
    const stored = await entries(ctx.redis, `default:${s}`);
    expect(stored.map((e) => e.id)).toEqual(acks);
    expect(stored.map((e) => e.data)).toEqual(payloads);
    ws.close();
  });

  it('splits PTG batches (comma start offsets) and flat JSON end offsets identically', async () => {
    const parts = ['aaa', 'bbbb', 'cc'].map((x) => Buffer.from(x));
    const blob = Buffer.concat(parts);
    for (const [query, header] of [
      ['?batch=true&ack=true', '0,3,7'],
      ['?ack=1', '[3,7,9]'],
      ['?ack=1&offsets=start', '[0,3,7]'],
      ['?ack=1&offsets=end', '[3,7,9]'],
    ]) {
      const s = sid();
      const ws = await push(s, query);
      await ws.send(header);
      await ws.send(blob);
      const ids = (await ws.nextText()).split(',');
      expect(ids).toHaveLength(3);
      const stored = await entries(ctx.redis, `default:${s}`);
      expect(stored.map((e) => e.id)).toEqual(ids);
      expect(stored.map((e) => e.data.toString())).toEqual(['aaa', 'bbbb', 'cc']);
      ws.close();
    }
  });

  it('routes [[sid, offset]] and [[sid, id, offset]] headers, a+b paths and * paths', async () => {
    const a = sid();
    const b = sid();
    // a+b with a flat header: one entry per path stream
    let ws = await push(`${a}+${b}`, '?ack=1');
    await ws.send('[2,5]');
    await ws.send(Buffer.from('AAbbb'));
    expect((await ws.nextText()).split(',')).toHaveLength(2);
    ws.close();
    // * path: the header names the streams, with explicit ids
    ws = await push('*', '?ack=1&device_id=dev1');
    await ws.send(
      JSON.stringify([
        [a, '1000-1', 0],
        [b, null, 1],
        [a, '1000-2', 3],
      ]),
    );
    await ws.send(Buffer.from('xyyzz'));
    const ids = (await ws.nextText()).split(',');
    expect(ids[0]).toBe('1000-1');
    expect(ids[2]).toBe('1000-2');
    expect((await entries(ctx.redis, `dev1:${a}`)).map((e) => [e.id, e.data.toString()])).toEqual([
      ['1000-1', 'x'],
      ['1000-2', 'zz'],
    ]);
    expect((await entries(ctx.redis, `dev1:${b}`)).map((e) => e.data.toString())).toEqual(['yy']);
    expect((await entries(ctx.redis, `default:${a}`)).map((e) => e.data.toString())).toEqual(['AA']);
    expect((await entries(ctx.redis, `default:${b}`)).map((e) => e.data.toString())).toEqual(['bbb']);
    ws.close();
  });

  it('trims to STREAM_MAXLEN approximately', async () => {
    const s = sid();
    const ws = await push(s, '?ack=1');
    const count = 3000;
    await ws.send(JSON.stringify(Array.from({ length: count }, (_, i) => i + 1)));
    await ws.send(Buffer.alloc(count, 7));
    await ws.nextText();
    const len = await ctx.redis.xlen(`default:${s}`);
    expect(len).toBeGreaterThanOrEqual(1000);
    expect(len).toBeLessThan(1200);
    ws.close();
  });

  describe('bad input closes with a code and stores nothing of the failing batch', () => {
    const cases: [string, string, (string | Buffer)[], number][] = [
      ['malformed JSON header', '', ['[1,2', Buffer.from('abc')], 1007],
      ['empty header', '', ['[]', Buffer.from('abc')], 1007],
      ['offsets past the blob', '', ['[0,10]', Buffer.from('abc')], 1007],
      ['end offsets not matching the blob', '?offsets=end', ['[1,2]', Buffer.from('abc')], 1007],
      ['binary without header when header=1', '?header=1', [Buffer.from('abc')], 1007],
      ['text frame when header=0', '?header=0', ['[3]'], 1007],
      ['two headers in a row', '', ['[3]', '[3]'], 1007],
      ['invalid stream id in header', '', ['[["../etc", 0]]', Buffer.from('abc')], 1008],
      ['bad explicit id', '', ['[["s", "12", 0]]', Buffer.from('abc')], 1008],
    ];
    it.each(cases)('%s', async (_name, query, frames, code) => {
      const s = sid();
      const ws = await push(s, `?ack=1${query ? `&${query.slice(1)}` : ''}`);
      for (const f of frames) await ws.send(f);
      const closed = await ws.closedWith();
      expect(closed.code).toBe(code);
      expect(closed.reason.length).toBeGreaterThan(0);
      expect(await ctx.redis.exists(`default:${s}`, 'default:s')).toBe(0);
    });

    it('explicit ids: decreasing within a batch is 1008, not above the stream top is 1011; nothing stored', async () => {
      const s = sid();
      const ws = await push(s, '?ack=1');
      await ws.send(JSON.stringify([[s, '5000-0', 0]]));
      await ws.send(Buffer.from('first'));
      expect(await ws.nextText()).toBe('5000-0');
      await ws.send(
        JSON.stringify([
          [s, '6000-0', 0],
          [s, '4000-0', 1],
        ]),
      );
      await ws.send(Buffer.from('ab'));
      expect((await ws.closedWith()).code).toBe(1008);

      const ws2 = await push(s, '?ack=1');
      await ws2.send(
        JSON.stringify([
          [s, '7000-0', 0],
          ['other', '1-0', 1],
        ]),
      );
      await ws2.send(Buffer.from('ok'));
      expect(await ws2.nextText()).toBe('7000-0,1-0');
      // the first entry alone would be valid: the batch is refused whole because of the second
      await ws2.send(
        JSON.stringify([
          [s, '9000-0', 0],
          ['other', '1-0', 1],
        ]),
      );
      await ws2.send(Buffer.from('zz'));
      const closed = await ws2.closedWith();
      expect(closed.code).toBe(1011);
      expect(closed.reason).toMatch(/id/);
      expect((await entries(ctx.redis, `default:${s}`)).map((e) => e.id)).toEqual(['5000-0', '7000-0']);
      expect((await entries(ctx.redis, 'default:other')).map((e) => e.id)).toEqual(['1-0']);
    });

    it('a frame larger than WS_MAX_PAYLOAD: 1009 and nothing stored', async () => {
      const s = sid();
      const ws = await push(s, '?ack=1');
      await ws.send(Buffer.alloc(1024 * 1024 + 1)).catch(() => undefined);
      expect((await ws.closedWith()).code).toBe(1009);
      expect(await ctx.redis.exists(`default:${s}`)).toBe(0);
    });
  });

  describe('upgrade refusals (HTTP status before the socket is accepted)', () => {
    it.each([
      ['no ctx.token', 'ok', '', undefined, 401],
      ['bad ctx.token', 'ok', '', 'garbage', 401],
      ['invalid stream id', 'a..b', '', 'TOKEN', 400],
      ['unknown query value', 'ok', '?header=maybe', 'TOKEN', 400],
      ['unknown parameter', 'ok', '?batchh=1', 'TOKEN', 400],
      ['bad device id', 'ok', '?device_id=a:b', 'TOKEN', 400],
    ])('%s', async (_name, path, query, tok, status) => {
      const t = tok === 'TOKEN' ? ctx.token : tok;
      await expect(TestSocket.open(`${ctx.svc.ws}/data/${path}/push${query}`, t)).rejects.toMatchObject({ status });
    });

    it('ctx.token in the query string works', async () => {
      const ws = await TestSocket.open(`${ctx.svc.ws}/data/q/push?token=${ctx.token}`);
      ws.close();
    });

    it('unknown WebSocket paths get 404', async () => {
      await expect(TestSocket.open(`${ctx.svc.ws}/nothing/here`, ctx.token)).rejects.toMatchObject({ status: 404 });
    });
  });

  it('stays healthy after all of that', async () => {
    const res = await fetch(`${ctx.svc.http}/health`);
    expect(res.status).toBe(200);
  });
});
