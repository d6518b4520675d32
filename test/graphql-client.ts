import { Client, createClient, FormattedExecutionResult } from 'graphql-ws';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { redisClient, startApp, startRedis, TestApp } from './harness';

// Response data is checked field by field with expect(): typing every shape buys nothing here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyData = Record<string, any>;

export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string };
}

export interface GqlResponse<T = AnyData> {
  status: number;
  data?: T | null;
  errors?: GqlError[];
}

/** One GraphQL operation over HTTP POST, as a client would send it. */
export async function gql<T = AnyData>(
  http: string,
  token: string | null,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GqlResponse<T>> {
  const res = await fetch(`${http}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: { data?: T | null; errors?: GqlError[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`graphql: HTTP ${res.status} answered non-JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, ...body };
}

/** The codes of a response's errors, in order. */
export const codes = (res: { errors?: GqlError[] }): (string | undefined)[] =>
  (res.errors ?? []).map((e) => e.extensions?.code);

/** A graphql-ws client that connects at once and never retries; `closed` records how it ended. */
export function wsClient(
  ws: string,
  connectionParams?: Record<string, unknown>,
  query = '',
): Client & { closed: Promise<{ code: number; reason: string }> } {
  let onClosed!: (c: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (onClosed = r));
  const client = createClient({
    url: `${ws}/graphql${query}`,
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => undefined,
    on: {
      closed: (e) => {
        const { code, reason } = e as { code: number; reason: string };
        onClosed({ code, reason });
      },
    },
  });
  return Object.assign(client, { closed });
}

/** A subscription whose results are queued so a test can take them one by one. */
export class Subscription<T = AnyData> {
  readonly results: FormattedExecutionResult<T, unknown>[] = [];
  error?: unknown;
  done = false;
  private wake?: () => void;
  readonly stop: () => void;

  constructor(client: Client, query: string, variables?: Record<string, unknown>) {
    this.stop = client.subscribe<T>(
      { query, variables },
      {
        next: (r) => {
          this.results.push(r);
          this.wake?.();
        },
        error: (e) => {
          this.error = e;
          this.done = true;
          this.wake?.();
        },
        complete: () => {
          this.done = true;
          this.wake?.();
        },
      },
    );
  }

  /** Waits until `n` results arrived (or the subscription ended, or `ms` passed). */
  async take(n: number, ms = 5000): Promise<FormattedExecutionResult<T, unknown>[]> {
    const deadline = Date.now() + ms;
    while (this.results.length < n && !this.done && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    return this.results.slice(0, n);
  }
}

/** A private redis-server, the app on it and a plain Redis client for assertions. */
export interface Testbed {
  svc: TestApp;
  plain: Redis;
  /** Stops the app (once), leaving Redis up. */
  closeApp(): Promise<void>;
  /** Stops everything. */
  close(): Promise<void>;
}

export async function startTestbed(env: Record<string, string> = {}): Promise<Testbed> {
  const redis = await startRedis();
  let svc: TestApp;
  try {
    svc = await startApp(redis.url, env);
  } catch (err) {
    await redis.cleanup(); // a failed boot must not leave the test run waiting on redis-server
    throw err;
  }
  const plain = redisClient(redis.url);
  let appClosed: Promise<void> | undefined;
  const closeApp = () => (appClosed ??= svc.close());
  return {
    svc,
    plain,
    closeApp,
    async close() {
      plain.disconnect();
      await closeApp();
      await redis.cleanup();
    },
  };
}
