import { useService } from './harness';
import { TestSocket } from './support/ws-client';

/** Push flow control: PUSH_MAX_IN_FLIGHT bounds what a socket may have waiting for Redis. */
describe('WebSocket push flow control', () => {
  const ctx = useService({ STREAM_MAXLEN: '0', PUSH_MAX_IN_FLIGHT: String(64 * 1024), REDIS_COMMAND_TIMEOUT_MS: '0' }, [
    '--enable-debug-command',
    'yes',
  ]);

  it('stops reading a socket while its frames wait for a stalled Redis, then stores and acks all in order', async () => {
    const ws = await TestSocket.open(`${ctx.svc.ws}/data/flow/push?ack=1`, ctx.token);
    const frames = 300;
    const payload = (i: number): Buffer => Buffer.alloc(64 * 1024, i % 251);
    // A second connection stalls Redis for 1.5 s; the service's writes wait behind it.
    const side = ctx.redis.duplicate();
    const sleeping = side.call('DEBUG', 'SLEEP', '1.5');
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < frames; i++) ws.ws.send(payload(i));
    await new Promise((r) => setTimeout(r, 700));
    // 19 MiB were sent; the server took about the limit and left the rest to the kernel and the
    // client, so the client still holds part of it unsent.
    expect(ws.ws.bufferedAmount).toBeGreaterThan(1024 * 1024);
    await sleeping;
    side.disconnect();
    const acks: string[] = [];
    while (acks.length < frames) acks.push((await ws.next(10000)).data.toString());
    const stored = await ctx.redis.xrangeBuffer('default:flow', '-', '+');
    expect(stored.map(([id]) => id.toString())).toEqual(acks);
    stored.forEach(([, fields], i) => expect(fields[1].equals(payload(i))).toBe(true));
    ws.close();
    await ws.closedWith();
  }, 20000);
});
