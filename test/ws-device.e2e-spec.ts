import { tokenFor, useService } from './harness';
import { writeUsersFile } from './support/rest';
import { TestSocket } from './support/ws-client';

interface JsonFrame {
  stream_id: string;
  id: string;
  time: string;
  data: unknown;
  encoding?: string;
}

describe('device-wide and glob pulls, JSON frames', () => {
  const ctx = useService(() => ({
    AUTH_USERS_FILE: writeUsersFile([
      { username: 'viewer', password: 'pw', read: ['site1:*'], write: [] },
      { username: 'partial', password: 'pw', read: ['site1:t*'], write: [] },
    ]),
    AUTH_DEV_MODE: 'true',
    STREAM_MAXLEN: '0',
  }));

  const pushJson = async (device: string, frames: object[]): Promise<string[]> => {
    const ws = await TestSocket.open(`${ctx.svc.ws}/data/*/push?format=json&ack=1&device_id=${device}`, ctx.token);
    const ids: string[] = [];
    for (const f of frames) {
      await ws.send(JSON.stringify(f));
      ids.push(await ws.nextText());
    }
    ws.close();
    return ids;
  };

  const json = async (ws: TestSocket): Promise<JsonFrame> => JSON.parse(await ws.nextText()) as JsonFrame;

  it('a * reader gets every readable stream of its device, including one created after it connected', async () => {
    await pushJson('site1', [
      { stream_id: 'temp', data: 0 },
      { stream_id: 'hum', data: 0 },
    ]);
    await pushJson('site2', [{ stream_id: 'temp', data: 0 }]);
    const viewer = await tokenFor(ctx.svc.http, 'viewer', 'pw');
    const partial = await tokenFor(ctx.svc.http, 'partial', 'pw');
    const all = await TestSocket.open(`${ctx.svc.ws}/data/*/pull?device_id=site1&format=json&count=10`, viewer);
    const some = await TestSocket.open(`${ctx.svc.ws}/data/*/pull?device_id=site1&format=json&count=10`, partial);
    const ids = await pushJson('site1', [
      { stream_id: 'temp', data: 21.5 },
      { stream_id: 'hum', data: 40 },
      { stream_id: 'wind', data: { speed: 3 } }, // created now
      { stream_id: 'temp', data: 22 },
      { stream_id: 'wind', data: { speed: 4 } },
    ]);
    await pushJson('site2', [{ stream_id: 'temp', data: 99 }]);

    const got: JsonFrame[] = [];
    while (got.length < 5) got.push(await json(all));
    const byStream = (s: string): unknown[] => got.filter((f) => f.stream_id === s).map((f) => f.data);
    expect(byStream('temp')).toEqual([21.5, 22]);
    expect(byStream('hum')).toEqual([40]);
    expect(byStream('wind')).toEqual([{ speed: 3 }, { speed: 4 }]);
    expect(got.map((f) => f.id).sort()).toEqual([...ids].sort());
    expect(await all.silentFor(200)).toBe(true);

    const limited: JsonFrame[] = [await json(some), await json(some)];
    expect(limited.map((f) => [f.stream_id, f.data])).toEqual([
      ['temp', 21.5],
      ['temp', 22],
    ]);
    expect(await some.silentFor(200)).toBe(true);
    all.close();
    some.close();
  });

  it('a glob pull matches exactly the streams it names', async () => {
    const reader = await TestSocket.open(
      `${ctx.svc.ws}/data/imu*/pull?device_id=robot&format=json&count=10`,
      ctx.token,
    );
    await pushJson('robot', [
      { stream_id: 'imu', data: 1 },
      { stream_id: 'imu/left', data: 2 },
      { stream_id: 'cam', data: 3 },
      { stream_id: 'xim', data: 4 },
      { stream_id: 'imu2', data: 5 },
    ]);
    const got = [await json(reader), await json(reader), await json(reader)];
    expect(got.map((f) => [f.stream_id, f.data]).sort()).toEqual([
      ['imu', 1],
      ['imu/left', 2],
      ['imu2', 5],
    ]);
    expect(await reader.silentFor(200)).toBe(true);
    reader.close();
  });

  it('JSON frames carry JSON, text and binary payloads faithfully', async () => {
    const reader = await TestSocket.open(`${ctx.svc.ws}/data/mixed/pull?format=json&count=10`, ctx.token);
    const pusher = await TestSocket.open(`${ctx.svc.ws}/data/mixed/push?ack=1`, ctx.token);
    const binary = Buffer.from([0xff, 0x00, 0xfe, 0x80]);
    for (const p of [Buffer.from('{"a":[1,2]}'), Buffer.from('plain text é'), binary, Buffer.from('"quoted"')]) {
      await pusher.send(p);
      await pusher.nextText();
    }
    const frames = [await json(reader), await json(reader), await json(reader), await json(reader)];
    expect(frames.map((f) => f.data)).toEqual([{ a: [1, 2] }, 'plain text é', binary.toString('base64'), 'quoted']);
    expect(frames.map((f) => f.encoding)).toEqual([undefined, undefined, 'base64', undefined]);
    expect(frames[0].stream_id).toBe('mixed');
    expect(new Date(frames[0].time).getTime()).toBe(Number(frames[0].id.split('-')[0]));
    reader.close();
    pusher.close();
  });

  it('JSON push stores data as JSON text; malformed frames close with 1007 and store nothing', async () => {
    const ws = await TestSocket.open(`${ctx.svc.ws}/data/jp/push?format=json&ack=1`, ctx.token);
    await ws.send(JSON.stringify({ data: { ok: true } }));
    const id = await ws.nextText();
    const [[storedId, fields]] = (await ctx.redis.xrange('default:jp', '-', '+')) as [string, string[]][];
    expect([storedId, fields[1]]).toEqual([id, '{"ok":true}']);
    for (const bad of ['not json', '[1,2]', '{"stream_id":"jp"}', '{"stream_id":5,"data":1}']) {
      const s = await TestSocket.open(`${ctx.svc.ws}/data/jp/push?format=json&ack=1`, ctx.token);
      await s.send(bad);
      expect((await s.closedWith()).code).toBe(bad.includes('5') ? 1008 : 1007);
    }
    const b = await TestSocket.open(`${ctx.svc.ws}/data/jp/push?format=json`, ctx.token);
    await b.send(Buffer.from('binary'));
    expect((await b.closedWith()).code).toBe(1007);
    expect(await ctx.redis.xlen('default:jp')).toBe(1);
  });
});
