import { createClient, getToken, StreamerClient, TokenSource } from '../client';
import { text, UsageError, Values } from './args';

export const DEFAULT_URL = 'http://127.0.0.1:8000';
/** A token fetched with --user/--password is fetched again after this long (tokens expire). */
const TOKEN_REUSE_MS = 5 * 60 * 1000;

/** What a command runs with: the parsed line, the service, the terminal. */
export interface Context {
  values: Values;
  positionals: string[];
  url: string;
  deviceId?: string;
  json: boolean;
  /** stderr is a terminal: progress and rates may be drawn there. */
  tty: boolean;
  /** Aborted on SIGINT/SIGTERM: commands finish what they hold and stop. */
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  /** The service's client (needs a token). */
  client(): StreamerClient;
  /** --user/--password (or their env), if given. */
  credentials(): { username: string; password: string } | undefined;
  out(line: string): void;
  err(line: string): void;
}

export function createContext(
  values: Values,
  positionals: string[],
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Context {
  const url = text(values, 'url', env.REDIS_STREAMER_URL || DEFAULT_URL)!;
  let client: StreamerClient | undefined;
  const ctx: Context = {
    values,
    positionals,
    url,
    deviceId: text(values, 'device'),
    json: values.json === true,
    tty: process.stderr.isTTY === true,
    signal,
    env,
    credentials: () => {
      const username = text(values, 'user', env.REDIS_STREAMER_USER || undefined);
      const password = text(values, 'password', env.REDIS_STREAMER_PASSWORD || undefined);
      if (username === undefined && password === undefined) return undefined;
      if (!username || password === undefined) throw new UsageError('--user and --password go together');
      return { username, password };
    },
    client: () => (client ??= createClient({ url, token: tokenSource(ctx) })),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
  return ctx;
}

/** --token / REDIS_STREAMER_TOKEN, else a token fetched with the credentials and reused a while. */
function tokenSource(ctx: Context): TokenSource {
  const token = text(ctx.values, 'token', ctx.env.REDIS_STREAMER_TOKEN || undefined);
  if (token) return token;
  const creds = ctx.credentials();
  if (!creds) {
    throw new UsageError(
      'no token: pass --token or set REDIS_STREAMER_TOKEN (see `redis-streamer token`), or give --user and --password',
    );
  }
  let cached: { token: Promise<string>; at: number } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at > TOKEN_REUSE_MS) {
      cached = { token: getToken(ctx.url, creds.username, creds.password), at: Date.now() };
      cached.token.catch(() => (cached = undefined));
    }
    return cached.token;
  };
}
