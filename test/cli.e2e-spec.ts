import bcrypt from 'bcryptjs';
import Redis from 'ioredis';
import { decode } from 'jpeg-js';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisClient, startApp, startRedis, TestApp, tokenFor } from './harness';
import { CliResult, compileCli, startCli } from './support/cli';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('redis-streamer CLI (a real child process against the real service)', () => {
  let redisServer: Awaited<ReturnType<typeof startRedis>>;
  let svc: TestApp;
  let redis: Redis;
  let cli: Awaited<ReturnType<typeof compileCli>>;
  let env: Record<string, string>;
  let appEnv: Record<string, string>;
  let tmp: string;

  beforeAll(async () => {
    const compiling = compileCli();
    tmp = mkdtempSync(join(tmpdir(), 'rs-cli-test-'));
    const usersFile = join(tmp, 'users.json');
    writeFileSync(
      usersFile,
      JSON.stringify([{ username: 'cam', password_hash: bcrypt.hashSync('secret', 4), write: ['default:cam*'] }]),
    );
    redisServer = await startRedis();
    appEnv = { STREAM_MAXLEN: '0', AUTH_USERS_FILE: usersFile, AUTH_DEV_MODE: 'true' };
    svc = await startApp(redisServer.url, appEnv);
    redis = redisClient(redisServer.url);
    cli = await compiling;
    env = {
      REDIS_STREAMER_URL: svc.http,
      REDIS_STREAMER_TOKEN: await tokenFor(svc.http),
      REDIS_STREAMER_USER: '',
      REDIS_STREAMER_PASSWORD: '',
    };
  });
  afterAll(async () => {
    redis.disconnect();
    await svc.close();
    await redisServer.cleanup();
    cli.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  const run = (args: string[], extraEnv: Record<string, string> = {}, input?: string): Promise<CliResult> =>
    startCli(cli.main, args, { ...env, ...extraEnv }, input).exited;
  const jsonLines = (stdout: string): Record<string, unknown>[] =>
    stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('push-increment then pull reads 0..N-1 in order, with the ids Redis holds', async () => {
    const pushed = await run(['push-increment', 'counter', '-n', '500', '--rate', '0', '--batch', '50', '--json']);
    expect(pushed.code).toBe(0);
    const stored = await redis.xrange('default:counter', '-', '+');
    expect(JSON.parse(pushed.stdout)).toMatchObject({ entries: 500, first_id: stored[0][0], last_id: stored[499][0] });

    const pulled = await run(['pull', 'counter', '--from', '0', '-n', '500', '--json']);
    expect(pulled.code).toBe(0);
    const lines = jsonLines(pulled.stdout);
    expect(lines.map((l) => l.data)).toEqual(Array.from({ length: 500 }, (_, i) => String(i)));
    expect(lines.map((l) => l.id)).toEqual(stored.map(([id]) => id));
    expect(pulled.stderr).toMatch(/pulled 500 entries/);

    const text = await run(['pull', 'counter', '--from', stored[9][0], '-n', '2']);
    expect(text.stdout.split('\n')[0]).toMatch(new RegExp(`^${stored[10][0]}  \\d{4}-\\d\\d-\\d\\dT\\S+Z  2 B  10$`));
  });

  it('push takes stdin lines or files; pull shows text, or hex for binary', async () => {
    expect((await run(['push', 'lines'], {}, 'alpha\nbeta\n')).code).toBe(0);
    const file = join(tmp, 'blob.bin');
    writeFileSync(file, Buffer.from([0, 1, 2, 250]));
    expect((await run(['push', 'lines', file, '--no-ack'])).code).toBe(0);
    const out = await run(['pull', 'lines', '--from', '0', '-n', '3']);
    const cells = out.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('  ').slice(2));
    expect(cells).toEqual([
      ['5 B', 'alpha'],
      ['4 B', 'beta'],
      ['4 B', 'hex 00 01 02 fa'],
    ]);
  });

  it('images round-trip byte for byte: push-image N frames, pull-image --out writes what Redis stores', async () => {
    const pushed = await run(['push-image', 'cam-img', '--shape', '48,64,3', '-n', '6', '--fps', '0', '--pool', '3']);
    expect(pushed.code).toBe(0);
    const out = join(tmp, 'frames');
    const pulled = await run(['pull-image', 'cam-img', '--from', '0', '-n', '6', '--out', out]);
    expect(pulled.code).toBe(0);
    const stored = await redis.xrangeBuffer('default:cam-img', '-', '+');
    expect(stored).toHaveLength(6);
    expect(readdirSync(out).sort()).toEqual(stored.map(([id]) => `${id.toString()}.jpg`).sort());
    for (const [id, fields] of stored) {
      const file = readFileSync(join(out, `${id.toString()}.jpg`));
      expect(file.equals(fields[1])).toBe(true);
    }
    const image = decode(readFileSync(join(out, `${stored[0][0].toString()}.jpg`)));
    expect([image.width, image.height]).toEqual([64, 48]);

    const listed = await run(['pull-image', 'cam-img', '--from', '0', '-n', '1']);
    expect(listed.stdout).toMatch(/ 64x48\n$/);
    const latest = await run(['pull-image', 'cam-img', '--from', '0', '--latest', '-n', '1', '--json']);
    expect(JSON.parse(latest.stdout)).toMatchObject({ id: stored[5][0].toString(), width: 64, height: 48, file: null });
  });

  it('a service restart mid-stream: pull resumes and prints exactly what is stored, push resends what was not acked', async () => {
    const n = 2000;
    const retry = { REDIS_STREAMER_URL: svc.http };
    const puller = startCli(cli.main, ['pull', 'resume', '--from', '0', '--json'], { ...env, ...retry });
    const pusher = startCli(
      cli.main,
      ['push-increment', 'resume', '-n', String(n), '--rate', '1000', '--batch', '10', '--json'],
      { ...env, ...retry },
    );
    await until(() => puller.lines().length > n / 4, 'the first quarter');
    const port = Number(new URL(svc.http).port);
    await svc.close();
    svc = await startApp(redisServer.url, appEnv, port);
    const pushed = await pusher.exited;
    expect(pushed.code).toBe(0);
    expect(pushed.stderr).toMatch(/1001 \(server shutting down\)|reconnecting/);

    const stored = await redis.xrange('default:resume', '-', '+');
    await until(() => puller.lines().length >= stored.length, 'the pull to catch up');
    await sleep(200);
    puller.child.kill('SIGINT');
    const pulled = await puller.exited;
    expect(pulled.code).toBe(0); // Ctrl-C ends a pull normally
    expect(pulled.stderr).toMatch(/reconnecting/);
    const lines = jsonLines(pulled.stdout);
    expect(lines.map((l) => [l.id, l.data])).toEqual(stored.map(([id, f]) => [id, f[1]]));
    // Every value once at least, first copies in order (see the client e2e test for why a batch
    // in the service's socket buffer at a 1001 may be stored twice).
    const firsts = [...new Set(stored.map(([, f]) => f[1]))];
    expect(firsts).toEqual(Array.from({ length: n }, (_, i) => String(i)));
  });

  it('tail follows several streams with a stream column; ls, info and devices describe them', async () => {
    await run(['push', 'tail-a'], {}, 'a1\n');
    await run(['push', 'tail-b'], {}, 'b1\n');
    const tailed = await run(['tail', 'tail-a', 'tail-b', '--from', '0', '-n', '2']);
    expect(
      tailed.stdout
        .trim()
        .split('\n')
        .map((l) => `${l.split('  ')[0]} ${l.split('  ').pop()}`)
        .sort(),
    ).toEqual(['tail-a a1', 'tail-b b1']);

    const ls = await run(['ls']);
    expect(ls.stdout.split('\n')[0]).toMatch(/^STREAM\s+LENGTH\s+LAST ENTRY TIME\s+LAST ID$/);
    expect(ls.stdout).toMatch(/\ncounter\s+500\s+\d{4}-\S+Z\s+\d+-\d+\n/);
    const lsJson = JSON.parse((await run(['ls', '--json', '--match', 'tail-*'])).stdout) as { streamId: string }[];
    expect(lsJson.map((s) => s.streamId)).toEqual(['tail-a', 'tail-b']);
    const info = JSON.parse((await run(['info', 'counter', '--json'])).stdout) as Record<string, unknown>;
    expect(info).toMatchObject({ streamId: 'counter', length: 500 });
    const devices = await run(['devices', '--all']);
    expect(devices.code).toBe(0);
    expect(devices.stdout).toMatch(/^DEVICE\s+CONNECTED/);
  });

  it('token and hash-password', async () => {
    const token = await run(['token', '--user', 'me', '--password', 'me'], { REDIS_STREAMER_TOKEN: '' });
    expect(token.code).toBe(0);
    expect(token.stdout.trim().split('.')).toHaveLength(3);
    const viaLogin = await run(['ls'], {
      REDIS_STREAMER_TOKEN: '',
      REDIS_STREAMER_USER: 'me',
      REDIS_STREAMER_PASSWORD: 'me',
    });
    expect(viaLogin.code).toBe(0);
    const hash = await run(['hash-password', '--cost', '4'], {}, 'open sesame\n');
    expect(bcrypt.compareSync('open sesame', hash.stdout.trim())).toBe(true);
  });

  it('refusals exit 1 with the status and its meaning: 401, 403, 404', async () => {
    const bad = await run(['pull', 'x', '-n', '1'], { REDIS_STREAMER_TOKEN: 'not-a-jwt' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/HTTP 401.*not authenticated/);
    const wrong = await run(['token', '--user', 'cam', '--password', 'nope']);
    expect(wrong.stderr).toBe('redis-streamer token: HTTP 401: Incorrect username or password\n');
    const cam = ['--user', 'cam', '--password', 'secret'];
    const denied = await run(['push-increment', 'other', '-n', '1', ...cam], { REDIS_STREAMER_TOKEN: '' });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/HTTP 403.*forbidden/);
    expect(
      (await run(['push-increment', 'cam7', '-n', '3', '--rate', '0', ...cam], { REDIS_STREAMER_TOKEN: '' })).code,
    ).toBe(0);
    const missing = await run(['info', 'no-such-stream']);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/HTTP 404: no stream no-such-stream/)]);
    const down = await run(['ls'], { REDIS_STREAMER_URL: 'http://127.0.0.1:9' });
    expect(down.stderr).toMatch(/cannot reach the service at http:\/\/127.0.0.1:9/);
  });

  it('bad command lines exit 2 with the problem and the usage', async () => {
    const cases: [string[], RegExp][] = [
      [['pull'], /missing argument/],
      [['pull', 'x', '--bogus'], /Unknown option '--bogus'/],
      [['push-increment', 'x', '--rate', 'fast'], /--rate must be a number/],
      [['push-increment', 'x', '-n', '0'], /--count must be an integer from 1/],
      [['push-image', 'x', '--shape', '10'], /--shape must be/],
      [['push', 'x', '--ack', '--no-ack'], /contradict/],
      [['ls', 'extra'], /unexpected argument "extra"/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['ls', '--user', 'me', '--token', ''], /--user and --password go together/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(args)));
    results.forEach((res, i) => {
      const [args, message] = cases[i];
      expect({ args, code: res.code, stderr: res.stderr }).toEqual({
        args,
        code: 2,
        stderr: expect.stringMatching(message),
      });
    });
  });

  it('no token at all is a usage error; --help exits 0', async () => {
    const res = await run(['ls'], { REDIS_STREAMER_TOKEN: '' });
    expect([res.code, res.stderr]).toEqual([
      2,
      expect.stringMatching(/no token: pass --token or set REDIS_STREAMER_TOKEN/),
    ]);
    const help = await run(['push', '--help']);
    expect([help.code, help.stdout]).toEqual([
      0,
      expect.stringMatching(/^usage: redis-streamer push <stream_id> \[file\.\.\.\]/),
    ]);
  });
});
