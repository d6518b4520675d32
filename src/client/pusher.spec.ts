import { fakeConnection, socketCount, tick } from '../../test/support/fake-sockets';
import { StreamerError } from './errors';
import { PushOptions, Pusher } from './pusher';

const FAST_RETRY = { initialDelayMs: 1, maxDelayMs: 2 };

async function openPusher(options: PushOptions = {}) {
  const { conn, sockets } = fakeConnection();
  const pusher = new Pusher(conn, 'cam', { reconnect: FAST_RETRY, ...options });
  await tick();
  sockets[0].open();
  return { pusher, sockets, socket: sockets[0] };
}

describe('Pusher', () => {
  it('connects with header=1, offsets=start, ack=1, the device and the token', async () => {
    const { socket } = await openPusher({ deviceId: 'site1' });
    expect(socket.url.startsWith('ws://svc.test/data/cam/push?')).toBe(true);
    expect(Object.fromEntries(socket.query)).toEqual({ header: '1', offsets: 'start', ack: '1', device_id: 'site1' });
    expect(socket.token).toBe('tok');
  });

  it('seals a batch at batchEntries, and the rest after batchMs', async () => {
    const { pusher, socket } = await openPusher({ batchEntries: 3, batchMs: 20 });
    for (const p of ['a', 'bb', 'c', 'd', 'ee', 'f', 'g']) await pusher.push(p);
    expect(socket.batches()).toEqual([
      { offsets: [0, 1, 3], blob: 'abbc' },
      { offsets: [0, 1, 3], blob: 'deef' },
    ]);
    await new Promise((r) => setTimeout(r, 40));
    expect(socket.batches()[2]).toEqual({ offsets: [0], blob: 'g' });
  });

  it('seals a batch at batchBytes', async () => {
    const { pusher, socket } = await openPusher({ batchBytes: 5, batchMs: 1000 });
    await pusher.push('abc');
    expect(socket.sent).toHaveLength(0);
    await pusher.push('de');
    expect(socket.batches()).toEqual([{ offsets: [0, 3], blob: 'abcde' }]);
  });

  it('keeps at most maxInFlight batches unacknowledged; each ack releases the next', async () => {
    const { pusher, socket } = await openPusher({ batchEntries: 1, maxInFlight: 2 });
    for (const p of ['a', 'b', 'c', 'd']) await pusher.push(p);
    expect(socket.batches().map((b) => b.blob)).toEqual(['a', 'b']);
    socket.message('1-0');
    expect(socket.batches().map((b) => b.blob)).toEqual(['a', 'b', 'c']);
    const flushed = pusher.flush();
    socket.message('2-0');
    socket.message('3-0');
    socket.message('4-0');
    await flushed;
    expect(pusher.stats).toMatchObject({ entries: 4, entriesDone: 4, batchesSent: 4 });
  });

  it('after a dropped connection resends only the unacknowledged batches, in order, then the new ones', async () => {
    const acked: string[] = [];
    const { pusher, sockets, socket } = await openPusher({ batchEntries: 1, onAck: (ids) => acked.push(...ids) });
    for (const p of ['a', 'b', 'c']) await pusher.push(p);
    socket.message('1-0'); // a acked; b and c are in flight
    socket.drop(1006);
    await pusher.push('d'); // queued while disconnected
    const second = await socketCount(sockets, 2);
    expect(second.sent).toHaveLength(0);
    second.open();
    expect(second.batches().map((b) => b.blob)).toEqual(['b', 'c', 'd']);
    const flushed = pusher.flush();
    ['2-0', '3-0', '4-0'].forEach((id) => second.message(id));
    await flushed;
    expect(acked).toEqual(['1-0', '2-0', '3-0', '4-0']);
    expect(pusher.stats).toMatchObject({ batchesSent: 6, entriesDone: 4, reconnects: 1 });
  });

  it('retries a refused upgrade with 503, gives up on 401 and 1008', async () => {
    const { conn, sockets } = fakeConnection();
    const retried: number[] = [];
    const pusher = new Pusher(conn, 'cam', { reconnect: FAST_RETRY, onRetry: (e) => retried.push(e.status ?? 0) });
    await tick();
    sockets[0].refuse(new StreamerError('busy', { status: 503 }));
    (await socketCount(sockets, 2)).refuse(new StreamerError('no', { status: 401 }));
    await expect(pusher.push('a')).rejects.toMatchObject({ status: 401 });
    expect(retried).toEqual([503]);
    await new Promise((r) => setTimeout(r, 20));
    expect(sockets).toHaveLength(2);

    const other = await openPusher();
    await other.pusher.push('x');
    const flushed = other.pusher.flush();
    other.socket.drop(1008, 'no write permission');
    await expect(flushed).rejects.toMatchObject({ closeCode: 1008, detail: 'no write permission' });
    await expect(other.pusher.push('y')).rejects.toBeInstanceOf(StreamerError);
  });

  it('fails at the first transient error with reconnect: false', async () => {
    const { pusher, socket } = await openPusher({ reconnect: false });
    await pusher.push('a');
    const flushed = pusher.flush();
    socket.drop(1001);
    await expect(flushed).rejects.toMatchObject({ closeCode: 1001 });
  });

  it('push() waits while more than maxQueuedBytes are unacknowledged', async () => {
    const { pusher, socket } = await openPusher({ batchEntries: 1, maxQueuedBytes: 10 });
    await pusher.push('12345678');
    let resolved = false;
    const second = pusher.push('abcdefgh').then(() => (resolved = true));
    await tick();
    expect(resolved).toBe(false);
    socket.message('1-0');
    await second;
    expect(resolved).toBe(true);
  });

  it('without acks, a batch is done once handed over and is not resent after a drop', async () => {
    const { pusher, sockets, socket } = await openPusher({ ack: false, batchEntries: 1 });
    expect(socket.query.get('ack')).toBeNull();
    await pusher.push('a');
    await pusher.flush();
    socket.drop(1006);
    await pusher.push('b');
    const second = await socketCount(sockets, 2);
    second.open();
    await pusher.flush();
    expect(second.batches().map((b) => b.blob)).toEqual(['b']);
    expect(pusher.stats.entriesDone).toBe(2);
  });

  it('close() flushes, then closes the socket with 1000', async () => {
    const { pusher, socket } = await openPusher();
    await pusher.push('a');
    const closing = pusher.close();
    await new Promise((r) => setTimeout(r, 20));
    socket.message('1-0');
    await closing;
    expect(socket.closedWith).toBe(1000);
    await expect(pusher.push('late')).rejects.toThrow(/after close/);
  });

  it('refuses several streams in one pusher', () => {
    const { conn } = fakeConnection();
    expect(() => new Pusher(conn, 'a+b')).toThrow(/one stream/);
  });
});
