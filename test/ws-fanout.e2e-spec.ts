import Redis from 'ioredis';
import { WebSocket } from 'ws';
import { WsDataGateway } from '../src/data-gateway/ws-data.gateway';
import { tokenFor, useService } from './harness';
import { writeUsersFile } from './support/rest';
import { TestSocket } from './support/ws-client';

async function clientCount(redis: Redis): Promise<number> {
  const list = (await redis.client('LIST')) as string;
  return list.trim().split('\n').length - 1; // minus the asking connection
}

async function until(check: () => boolean | Promise<boolean>, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('WebSocket fan-out, slow readers and permissions', () => {
  const ctx = useService(() => ({
    STREAM_MAXLEN: '0',
    PULL_MAX_BUFFERED: String(256 * 1024),
    AUTH_USERS_FILE: writeUsersFile([
      { username: 'cam', password: 'pw', read: ['default:cam*'], write: ['default:cam*'] },
    ]),
    AUTH_DEV_MODE: 'true',
  }));

  it('500 readers of one stream each get every entry in order over a constant number of Redis connections', async () => {
    const first = await TestSocket.open(`${ctx.svc.ws}/data/fan/pull?count=100`, ctx.token);
    await until(async () => (await clientCount(ctx.redis)) > 0);
    const baseline = await clientCount(ctx.redis);
    const readers = [first];
    for (let i = 1; i < 500; i++)
      readers.push(await TestSocket.open(`${ctx.svc.ws}/data/fan/pull?count=100`, ctx.token));
    expect(await clientCount(ctx.redis)).toBe(baseline);

    const pusher = await TestSocket.open(`${ctx.svc.ws}/data/fan/push?ack=1`, ctx.token);
    const sent: string[] = [];
    for (let i = 0; i < 50; i++) {
      await pusher.send(Buffer.from(`entry-${i}`));
      sent.push(await pusher.nextText());
    }
    await Promise.all(
      readers.map(async (r) => {
        const got: string[] = [];
        while (got.length < 50) {
          for (const e of await r.message(10000)) {
            expect(e.data.toString()).toBe(`entry-${got.length}`);
            got.push(e.id);
          }
        }
        expect(got).toEqual(sent);
      }),
    );
    expect(await clientCount(ctx.redis)).toBe(baseline);
    for (const r of [...readers, pusher]) r.close();
  }, 60000);

  it('a reader that never reads does not delay the others and its buffer stays bounded', async () => {
    const slow = await TestSocket.open(`${ctx.svc.ws}/data/slowpoke/pull?count=10`, ctx.token);
    const raw = (slow.ws as unknown as { _socket: { pause(): void } })._socket;
    raw.pause(); // stop reading from the kernel: the server sees a stalled peer
    const fast = await TestSocket.open(`${ctx.svc.ws}/data/slowpoke/pull?count=10`, ctx.token);
    const pusher = await TestSocket.open(`${ctx.svc.ws}/data/slowpoke/push?ack=1`, ctx.token);
    const chunk = Buffer.alloc(64 * 1024, 1);
    const total = 160; // 10 MiB through a 256 KiB bound
    const reading = (async () => {
      let received = 0;
      while (received < total) received += (await fast.message(5000)).length;
      return received;
    })();
    for (let i = 0; i < total; i++) {
      await pusher.send(chunk);
      await pusher.nextText();
    }
    expect(await reading).toBe(total);
    const gateway: unknown = ctx.svc.app.get(WsDataGateway);
    const { server } = gateway as { server: { clients: Set<WebSocket> } };
    const worst = Math.max(...[...server.clients].map((c) => c.bufferedAmount));
    // bound + one message (10 x 64 KiB) at most waiting in user space; the rest waits in Redis
    expect(worst).toBeLessThanOrEqual(256 * 1024 + 10 * 64 * 1024 + 64 * 1024);
    slow.ws.terminate();
    for (const s of [fast, pusher]) s.close();
  }, 30000);

  it('checks rights per stream: 403 at upgrade, 1008 for a header naming a forbidden stream', async () => {
    const cam = await tokenFor(ctx.svc.http, 'cam', 'pw');
    await expect(TestSocket.open(`${ctx.svc.ws}/data/mic/push`, cam)).rejects.toMatchObject({ status: 403 });
    await expect(TestSocket.open(`${ctx.svc.ws}/data/mic/pull`, cam)).rejects.toMatchObject({ status: 403 });
    await expect(TestSocket.open(`${ctx.svc.ws}/data/cam1+mic/pull`, cam)).rejects.toMatchObject({ status: 403 });
    const ws = await TestSocket.open(`${ctx.svc.ws}/data/*/push?ack=1`, cam);
    await ws.send(JSON.stringify([['cam1', 0]]));
    await ws.send(Buffer.from('ok'));
    expect(await ws.nextText()).toMatch(/^\d+-\d+$/);
    await ws.send(
      JSON.stringify([
        ['cam1', 0],
        ['mic', 1],
      ]),
    );
    await ws.send(Buffer.from('xy'));
    const closed = await ws.closedWith();
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/mic/);
    expect(await ctx.redis.xlen('default:cam1')).toBe(1);
    expect(await ctx.redis.exists('default:mic')).toBe(0);
  });
});
