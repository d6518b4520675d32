import { fakeConnection, FakeSocket, socketCount, tick } from '../../test/support/fake-sockets';
import type { Entry } from './entries';
import { PullOptions, Puller } from './puller';

const FAST_RETRY = { initialDelayMs: 1, maxDelayMs: 2 };

async function openPuller(spec: string, options: PullOptions = {}) {
  const { conn, sockets } = fakeConnection();
  const puller = new Puller(conn, spec, { lastEntryId: '0', reconnect: FAST_RETRY, ...options });
  await tick();
  sockets[0].open();
  return { puller, sockets, socket: sockets[0] };
}

/** Sends one pull message: header rows [stream, id, payload] as start offsets + blob. */
function send(socket: FakeSocket, rows: [string, string, string][]): void {
  let at = 0;
  socket.message(JSON.stringify(rows.map(([s, id, p]) => [s, id, (at += p.length) - p.length])));
  socket.message(Buffer.from(rows.map((r) => r[2]).join('')));
}

async function take(puller: Puller, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await puller.next();
    const e = r.value as Entry;
    out.push(`${e.streamId}:${e.id}:${Buffer.from(e.data).toString()}`);
  }
  return out;
}

describe('Puller', () => {
  it('connects with one cursor per stream, ack=1 and the options', async () => {
    const { socket } = await openPuller('a+b', { lastEntryId: '5-0+7-1', count: 10, latest: true, maxFps: 5 });
    expect(socket.url).toContain('/data/a+b/pull?');
    expect(Object.fromEntries(socket.query)).toEqual({
      last_entry_id: '5-0+7-1',
      count: '10',
      latest: '1',
      max_fps: '5',
      ack: '1',
    });
    expect(socket.url).toContain('last_entry_id=5-0%2B7-1');
  });

  it('yields entries with their time, and acks each message while it has room', async () => {
    const { puller, socket } = await openPuller('a');
    send(socket, [
      ['a', '1000-0', 'x'],
      ['a', '1001-0', 'yz'],
    ]);
    expect(socket.sent).toEqual(['1001-0']);
    const first = (await puller.next()).value as Entry;
    expect(first).toMatchObject({ streamId: 'a', id: '1000-0', time: 1000 });
    expect(await take(puller, 1)).toEqual(['a:1001-0:yz']);
  });

  it('holds the ack back above highWaterMark until the consumer drained half of it', async () => {
    const { puller, socket } = await openPuller('a', { highWaterMark: 4 });
    send(
      socket,
      [1, 2, 3, 4].map((i) => ['a', `${i}-0`, String(i)] as [string, string, string]),
    );
    expect(socket.sent).toEqual([]);
    await take(puller, 1);
    expect(socket.sent).toEqual([]);
    await take(puller, 1);
    expect(socket.sent).toEqual(['2-0']);
  });

  it('resumes after a drop from the last id per stream and skips anything already delivered', async () => {
    const { puller, sockets, socket } = await openPuller('a+b', { lastEntryId: '0' });
    send(socket, [
      ['a', '10-0', 'a1'],
      ['b', '11-0', 'b1'],
      ['a', '12-0', 'a2'],
    ]);
    socket.drop(1001);
    const second = await socketCount(sockets, 2);
    expect(second.query.get('last_entry_id')).toBe('12-0+11-0');
    second.open();
    send(second, [
      ['a', '12-0', 'a2'],
      ['b', '13-0', 'b2'],
    ]);
    expect(await take(puller, 4)).toEqual(['a:10-0:a1', 'b:11-0:b1', 'a:12-0:a2', 'b:13-0:b2']);
    expect(puller.cursor).toBe('12-0+13-0');
    expect(puller.reconnects).toBe(1);
  });

  it('a glob resumes from its oldest cursor', async () => {
    const { sockets, socket } = await openPuller('cam*', { lastEntryId: '0' });
    send(socket, [
      ['cam1', '20-0', 'x'],
      ['cam2', '15-3', 'y'],
    ]);
    socket.drop(1006);
    expect((await socketCount(sockets, 2)).query.get('last_entry_id')).toBe('15-3');
  });

  it('ends with the error on a refusal or 1008, and is done after close()', async () => {
    const { puller, socket } = await openPuller('a');
    socket.drop(1008, 'no read permission');
    await expect(puller.next()).rejects.toMatchObject({ closeCode: 1008 });

    const other = await openPuller('a');
    send(other.socket, [['a', '1-0', 'x']]);
    other.puller.close();
    expect(await other.puller.next()).toEqual({ value: undefined, done: true });
    await tick();
    expect(other.socket.closedWith).toBe(1000);
  });

  it('stops when its signal aborts', async () => {
    const stop = new AbortController();
    const { puller } = await openPuller('a', { signal: stop.signal });
    const pending = puller.next();
    stop.abort();
    expect(await pending).toEqual({ value: undefined, done: true });
  });
});
