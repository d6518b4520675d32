import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { isRedisUnavailable } from '../src/common/http-error.filter';
import { HistoryConnection, HistoryConnectionOptions } from '../src/redis/history-connection';
import { freePort } from '../src/redis/redis-server.launcher';
import { joinPayloads, StreamEntry } from '../src/redis/redis-streams.service';
import { XrangeReplyReader } from '../src/redis/xrange-reply';
import { redisClient, startRedis } from './harness';
import { rng } from './support/prng';

type Server = Awaited<ReturnType<typeof startRedis>>;

/** What a connection reported to its owner, in order. */
function recorder(): { events: string[]; lost(err: Error): void; ready(): void } {
  const events: string[] = [];
  return { events, lost: (err) => events.push(`lost: ${err.message}`), ready: () => events.push('ready') };
}

/** A history connection configured from a URL the way the service does it (ioredis parses it). */
function fromUrl(url: string, name = 'h'): HistoryConnection {
  return new HistoryConnection(HistoryConnection.optionsOf(new Redis(url, { lazyConnect: true }).options, name, 0));
}

function optionsFor(server: Server, extra: Partial<HistoryConnectionOptions> = {}): HistoryConnectionOptions {
  return {
    host: '127.0.0.1',
    port: server.port,
    name: 'redis-streamer:history',
    connectTimeoutMs: 2000,
    commandTimeoutMs: 0,
    ...extra,
  };
}

/** What ioredis's general parser makes of the same XRANGE: [id, payload] with the same field rule. */
async function viaIoredis(redis: Redis, key: string, ...args: (string | number)[]): Promise<[string, string][]> {
  const raw = (await redis.callBuffer('XRANGE', key, ...args)) as [Buffer, Buffer[]][];
  return raw.map(([id, fields]) => {
    let data = fields[1];
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i].toString() === 'd') {
        data = fields[i + 1];
        break;
      }
    }
    return [id.toString(), data.toString('base64')];
  });
}

/** Ids and payloads (base64: Jest compares megabyte buffers byte by byte, slowly). */
const pairs = (entries: StreamEntry[]): [string, string][] => entries.map((e) => [e.id, e.data.toString('base64')]);

/** The bytes Redis sends for one command (followed by PING, whose `+PONG` marks the end). */
async function rawReply(port: number, command: string[]): Promise<Buffer> {
  const encode = (args: string[]): string =>
    `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  const socket = connect(port, '127.0.0.1');
  socket.write(encode(command) + encode(['PING']));
  const chunks: Buffer[] = [];
  const pong = Buffer.from('+PONG\r\n');
  await new Promise<void>((done, fail) => {
    let tail = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      tail = Buffer.concat([tail, c]).subarray(-pong.length);
      if (tail.equals(pong)) done();
    });
    socket.on('error', fail);
  });
  socket.destroy();
  const all = Buffer.concat(chunks);
  return all.subarray(0, all.length - pong.length);
}

describe('history connection (XRANGE with its own reply reader) against a real Redis', () => {
  let server: Server;
  let redis: Redis;
  const key = 'history:mixed';
  const rnd = rng(0x4157);
  // Binary payloads: seeded noise, read from a random place (the PRNG is slow per byte under jest).
  const noise = Buffer.alloc(65_537);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rnd() * 256);
  const payload = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let at = 0, from = Math.floor(rnd() * noise.length); at < n; from = 0) at += noise.copy(b, at, from);
    return b;
  };

  beforeAll(async () => {
    server = await startRedis(['--appendonly', 'no']);
    redis = redisClient(server.url);
    // Payloads of every size class, binary bytes, and entries written by other tools.
    const sizes = [0, 1, 2, 13, 100, 1023, 1024, 4096, 65535, 70_000, 300_000, 1024 * 1024 + 7];
    for (let i = 0; i < 600; i++) {
      const size = i < sizes.length ? sizes[i] : Math.floor(rnd() * 3000);
      await redis.xadd(key, '*', 'd', payload(size));
    }
    await redis.xadd(key, '*', 'a', 'first value', 'd', 'the payload', 'z', 'last');
    await redis.xadd(key, '*', 'sensor', 'no d field', 'unit', 'C');
    await redis.xadd(key, '*', 'dd', 'not d', 'd', '');
    await redis.xadd(key, '*', 'd', 'one', 'd', 'two');
    await redis.xadd(key, '*', 'kamera-ü', 'unicode field name');
  }, 60_000);

  afterAll(async () => {
    redis.disconnect();
    await server.cleanup();
  });

  it('reads what ioredis reads, for whole ranges, COUNT pages and exclusive bounds', async () => {
    const conn = new HistoryConnection(optionsFor(server));
    try {
      expect(pairs(await conn.xrange(key, '-', '+'))).toEqual(await viaIoredis(redis, key, '-', '+'));
      const expected = await viaIoredis(redis, key, '-', '+');
      const paged: [string, string][] = [];
      let after = '-';
      for (;;) {
        const page = await conn.xrange(key, after, '+', 37);
        if (page.length === 0) break;
        for (const e of page) expect(e.key).toBe(key);
        paged.push(...pairs(page));
        after = `(${page[page.length - 1].id}`;
      }
      expect(paged).toEqual(expected);
      expect(paged).toHaveLength(605);
      expect(await conn.xrange('history:none', '-', '+')).toEqual([]);
      expect(await conn.xrange(key, '+', '-')).toEqual([]);
    } finally {
      conn.close();
    }
  });

  it('lays the payloads of one reply back to back: joinPayloads is then a view, equal to a copy', async () => {
    const even = 'history:even';
    for (let i = 0; i < 300; i++) await redis.xadd(even, '*', 'd', payload(1000));
    const conn = new HistoryConnection(optionsFor(server));
    try {
      const page = await conn.xrange(even, '-', '+', 300);
      const joined = joinPayloads(page);
      expect(joined.equals(Buffer.concat(page.map((e) => e.data)))).toBe(true);
      expect(joined.buffer).toBe(page[0].data.buffer);
      // Payloads of varied sizes fill more than one page: still the same bytes.
      const varied = await conn.xrange(key, '-', '+', 100);
      expect(new Set(varied.map((e) => e.data.buffer)).size).toBeGreaterThan(1);
      expect(joinPayloads(varied).equals(Buffer.concat(varied.map((e) => e.data)))).toBe(true);
      // Entries from two replies are copied, and still equal.
      const mixed = [...page.slice(0, 3), ...varied.slice(20, 25)];
      expect(joinPayloads(mixed).equals(Buffer.concat(mixed.map((e) => e.data)))).toBe(true);
    } finally {
      conn.close();
    }
  });

  it('answers many pipelined commands in order', async () => {
    const conn = new HistoryConnection(optionsFor(server));
    try {
      const all = await viaIoredis(redis, key, '-', '+');
      const got = await Promise.all(all.map((_, i) => conn.xrange(key, all[i][0], '+', 3)));
      got.forEach((page, i) => expect(pairs(page)).toEqual(all.slice(i, i + 3)));
    } finally {
      conn.close();
    }
  });

  it('reads Redis replies cut at every kind of boundary (seeded random chunks, 1-byte chunks)', async () => {
    const bytes = Buffer.concat([
      await rawReply(server.port, ['XRANGE', key, '-', '+', 'COUNT', '40']),
      await rawReply(server.port, ['XRANGE', key, '-', '+']),
    ]);
    const expected = await viaIoredis(redis, key, '-', '+');
    const cuts = rng(7);
    const read = (size: () => number): StreamEntry[][] => {
      const replies: StreamEntry[][] = [];
      const reader = new XrangeReplyReader();
      for (let i = 0; i < 2; i++) reader.expect({ key, done: (r) => replies.push(r as StreamEntry[]) });
      const scratch = Buffer.alloc(200_000);
      for (let p = 0; p < bytes.length;) {
        const n = Math.min(size(), bytes.length - p);
        // One reused buffer, like the socket's: the reader must keep nothing that points into it.
        bytes.copy(scratch, 0, p, p + n);
        reader.feed(scratch.subarray(0, n));
        scratch.fill(0xee);
        p += n;
      }
      expect(reader.pending).toBe(0);
      return replies;
    };
    for (const size of [() => 1 + Math.floor(cuts() * 200), () => 1 + Math.floor(cuts() * 70_000), () => 65_536]) {
      const [first, second] = read(size);
      expect(pairs(first)).toEqual(expected.slice(0, 40));
      expect(pairs(second)).toEqual(expected);
    }
    // Byte by byte, on the first 40 entries (the rest has megabyte payloads).
    const head = await rawReply(server.port, ['XRANGE', key, '-', '+', 'COUNT', '15']);
    const reader = new XrangeReplyReader();
    let got: StreamEntry[] = [];
    reader.expect({ key, done: (r) => (got = r as StreamEntry[]) });
    for (let p = 0; p < head.length; p++) reader.feed(head.subarray(p, p + 1));
    expect(pairs(got)).toEqual(expected.slice(0, 15));
  });

  it('joins each carried unit a bounded number of times, however many fields an entry has', async () => {
    const wide = 'history:wide';
    // Dead-letter-shaped entries (a large `d`, then small fields), one of 8,000 small fields, one
    // of 512 fields of 8 KiB: a unit per field, so no entry is joined again for every field.
    for (let i = 0; i < 20; i++) {
      await redis.xadd(wide, '*', 'd', payload(256 * 1024), 'source_id', `1-${i}`, 'group', 'g', 'deliveries', '3');
    }
    const many: string[] = [];
    for (let i = 0; i < 4000; i++) many.push(`f${i}`, `value ${i}`);
    await redis.xadd(wide, '*', ...many);
    const big: (string | Buffer)[] = [];
    for (let i = 0; i < 256; i++) big.push(`k${i}`, payload(8 * 1024));
    await redis.xadd(wide, '*', 'd', payload(8 * 1024), ...big);
    const bytes = await rawReply(server.port, ['XRANGE', wide, '-', '+']);
    const concat = Buffer.concat.bind(Buffer);
    let copied = 0;
    const spy = jest.spyOn(Buffer, 'concat').mockImplementation((list, total) => {
      const out = concat(list, total);
      copied += out.length;
      return out;
    });
    let got: StreamEntry[] = [];
    try {
      const reader = new XrangeReplyReader();
      reader.expect({ key: wide, done: (r) => (got = r as StreamEntry[]) });
      for (let p = 0; p < bytes.length; p += 65_536) reader.feed(bytes.subarray(p, p + 65_536));
    } finally {
      spy.mockRestore();
    }
    expect(pairs(got)).toEqual(await viaIoredis(redis, wide, '-', '+'));
    expect(got).toHaveLength(22);
    expect(copied).toBeLessThan(1.5 * bytes.length);
  });

  it('fails a command Redis refuses (WRONGTYPE) and goes on serving the next', async () => {
    await redis.set('history:string', 'x');
    const conn = new HistoryConnection(optionsFor(server));
    try {
      await expect(conn.xrange('history:string', '-', '+')).rejects.toThrow(/^WRONGTYPE/);
      expect(pairs(await conn.xrange(key, '-', '+', 2))).toEqual(await viaIoredis(redis, key, '-', '+', 'COUNT', 2));
    } finally {
      conn.close();
    }
  });

  it('names itself, and a closed connection fails what is in flight and what comes after', async () => {
    const conn = new HistoryConnection(optionsFor(server, { name: 'redis-streamer:history-test' }));
    await conn.xrange(key, '-', '+', 1);
    expect(await redis.client('LIST')).toContain('name=redis-streamer:history-test');
    const inFlight = conn.xrange(key, '-', '+');
    conn.close();
    await expect(inFlight).rejects.toThrow('Connection is closed');
    await expect(conn.xrange(key, '-', '+', 1)).rejects.toThrow('Connection is closed');
  });
});

describe('history connection: authentication, database, TLS and faults', () => {
  it('logs in with a password or an ACL user, selects the database, and reports a wrong password', async () => {
    const server = await startRedis(['--appendonly', 'no', '--requirepass', 'sesame']);
    const admin = new Redis({ port: server.port, host: '127.0.0.1', password: 'sesame', db: 3 });
    try {
      await admin.xadd('db3:stream', '5-1', 'd', 'in db 3');
      await admin.call('ACL', 'SETUSER', 'reader', 'on', '>open', '~*', '+@all');
      const conn = fromUrl(`redis://:sesame@127.0.0.1:${server.port}/3`);
      expect(pairs(await conn.xrange('db3:stream', '-', '+'))).toEqual([
        ['5-1', Buffer.from('in db 3').toString('base64')],
      ]);
      conn.close();
      const user = fromUrl(`redis://reader:open@127.0.0.1:${server.port}/3`);
      expect(pairs(await user.xrange('db3:stream', '-', '+'))).toHaveLength(1);
      user.close();
      // A user without a password (`nopass`) logs in by name alone.
      await admin.call('ACL', 'SETUSER', 'guest', 'on', 'nopass', '~*', '+@all');
      const guest = fromUrl(`redis://guest@127.0.0.1:${server.port}/3`, 'redis-streamer:guest-test');
      expect(pairs(await guest.xrange('db3:stream', '-', '+'))).toHaveLength(1);
      expect(await admin.client('LIST')).toMatch(/name=redis-streamer:guest-test .*user=guest/);
      guest.close();
      const refused = recorder();
      const wrong = new HistoryConnection(optionsFor(server, { password: 'wrong' }), refused);
      await expect(wrong.xrange('db3:stream', '-', '+')).rejects.toThrow(/WRONGPASS|invalid password/i);
      expect(refused.events).toEqual([expect.stringMatching(/^lost: WRONGPASS/)]);
      const none = new HistoryConnection(optionsFor(server));
      await expect(none.xrange('db3:stream', '-', '+')).rejects.toThrow(/NOAUTH/);
      wrong.close();
      none.close();
    } finally {
      admin.disconnect();
      await server.cleanup();
    }
  });

  it('reads on when the URL has a password that Redis does not ask for (as ioredis does)', async () => {
    const server = await startRedis(['--appendonly', 'no']);
    const redis = redisClient(server.url);
    try {
      await redis.xadd('open:stream', '1-1', 'd', 'x');
      const conn = fromUrl(`redis://:unneeded@127.0.0.1:${server.port}`);
      expect(pairs(await conn.xrange('open:stream', '-', '+'))).toEqual([['1-1', Buffer.from('x').toString('base64')]]);
      conn.close();
    } finally {
      redis.disconnect();
      await server.cleanup();
    }
  });

  it('reads over TLS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rs-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const tlsPort = await freePort();
    const server = await startRedis([
      '--appendonly',
      'no',
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      join(dir, 'cert.pem'),
      '--tls-key-file',
      join(dir, 'key.pem'),
      '--tls-ca-cert-file',
      join(dir, 'cert.pem'),
      '--tls-auth-clients',
      'no',
    ]);
    const redis = redisClient(server.url);
    try {
      await redis.xadd('tls:stream', '1-1', 'd', Buffer.alloc(100_000, 7));
      const conn = new HistoryConnection(
        optionsFor(server, { port: tlsPort, tls: { ca: readFileSync(join(dir, 'cert.pem')) } }),
      );
      const [entry] = await conn.xrange('tls:stream', '-', '+');
      expect(entry.id).toBe('1-1');
      expect(entry.data.equals(Buffer.alloc(100_000, 7))).toBe(true);
      conn.close();
    } finally {
      redis.disconnect();
      await server.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails commands while Redis is away with an "unavailable" error, and reconnects when it is back', async () => {
    const server = await startRedis(['--appendfsync', 'always']);
    const redis = redisClient(server.url);
    const report = recorder();
    const conn = new HistoryConnection(optionsFor(server), report);
    try {
      await redis.xadd('fault:stream', '1-1', 'd', 'kept');
      await redis.xadd('fault:stream', '1-2', 'd', 'kept too');
      expect(await conn.xrange('fault:stream', '-', '+')).toHaveLength(2);
      await server.kill();
      const err = await conn.xrange('fault:stream', '-', '+').catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect(isRedisUnavailable(err)).toBe(true);
      await server.boot();
      expect(pairs(await conn.xrange('fault:stream', '-', '+'))).toEqual([
        ['1-1', Buffer.from('kept').toString('base64')],
        ['1-2', Buffer.from('kept too').toString('base64')],
      ]);
      // The owner heard of the outage and of the return; closing is not an outage.
      conn.close();
      expect(report.events[0]).toBe('ready');
      expect(report.events[1]).toMatch(/^lost: Connection is closed/);
      expect(report.events[report.events.length - 1]).toBe('ready');
      expect(report.events.filter((e) => e === 'ready').length).toBeGreaterThanOrEqual(2);
    } finally {
      conn.close();
      redis.disconnect();
      await server.cleanup();
    }
  }, 30_000);

  it('fails a command a stalled Redis does not answer in time, alone, and drops its late reply', async () => {
    const server = await startRedis(['--appendonly', 'no', '--enable-debug-command', 'yes']);
    const redis = redisClient(server.url);
    const other = redisClient(server.url);
    const conn = new HistoryConnection(optionsFor(server, { commandTimeoutMs: 300 }));
    try {
      await redis.xadd('slow:a', '1-1', 'd', 'from a');
      await redis.xadd('slow:b', '2-1', 'd', 'from b');
      expect(await conn.xrange('slow:a', '-', '+')).toHaveLength(1);
      const sleeping = other.call('DEBUG', 'SLEEP', '1');
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      const err = await conn.xrange('slow:a', '-', '+').catch((e: Error) => e);
      expect((err as Error).message).toBe('Command timed out');
      expect(Date.now() - started).toBeLessThan(900);
      expect(isRedisUnavailable(err)).toBe(true);
      // Queued behind the late reply: it must get its own reply, not slow:a's.
      await sleeping;
      const next = conn.xrange('slow:b', '-', '+');
      expect(pairs(await next)).toEqual([['2-1', Buffer.from('from b').toString('base64')]]);
      expect(pairs(await conn.xrange('slow:a', '-', '+'))).toEqual([['1-1', Buffer.from('from a').toString('base64')]]);
    } finally {
      conn.close();
      redis.disconnect();
      other.disconnect();
      await server.cleanup();
    }
  }, 20_000);

  it('reads on when Redis refuses its CLIENT SETNAME', async () => {
    const server = await startRedis(['--appendonly', 'no', '--rename-command', 'CLIENT', '']);
    const redis = redisClient(server.url);
    const conn = new HistoryConnection(optionsFor(server));
    try {
      await redis.xadd('named:stream', '1-1', 'd', 'x');
      expect(pairs(await conn.xrange('named:stream', '-', '+'))).toEqual([
        ['1-1', Buffer.from('x').toString('base64')],
      ]);
    } finally {
      conn.close();
      redis.disconnect();
      await server.cleanup();
    }
  });

  it('gives up connecting after connectTimeoutMs with an "unavailable" error', async () => {
    // A TLS connection to a server that accepts and never answers: the handshake never ends.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as AddressInfo;
    const conn = new HistoryConnection({
      host: '127.0.0.1',
      port,
      tls: true,
      name: 'h',
      connectTimeoutMs: 300,
      commandTimeoutMs: 0,
    });
    try {
      const err = await conn.xrange('k', '-', '+').catch((e: Error) => e);
      expect((err as Error).message).toBe('Connection is closed (connect ETIMEDOUT)');
      expect(isRedisUnavailable(err)).toBe(true);
    } finally {
      conn.close();
      silent.close();
    }
  });

  it('fails with ECONNREFUSED when nothing listens', async () => {
    const conn = new HistoryConnection({
      host: '127.0.0.1',
      port: await freePort(),
      name: 'h',
      connectTimeoutMs: 1000,
      commandTimeoutMs: 0,
    });
    const err = await conn.xrange('k', '-', '+').catch((e: Error) => e);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect(isRedisUnavailable(err)).toBe(true);
    conn.close();
  });
});
