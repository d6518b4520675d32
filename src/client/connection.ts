import { networkError, StreamerError } from './errors';
import type { SocketFactory } from './socket';

/** A token, or a function that gets a fresh one (called before every connection and request). */
export type TokenSource = string | (() => string | Promise<string>);

/** Where the service is and how to authenticate. */
export interface ClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8000` (`ws:` URLs are derived from it). */
  url: string;
  /** Bearer token from `POST /token` (see `getToken`). */
  token?: TokenSource;
  /** How to open WebSockets; the Node entry uses `ws`, the browser entry the global WebSocket. */
  sockets?: SocketFactory;
  /** `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
}

/** Automatic reconnection with exponential backoff and jitter. */
export interface ReconnectOptions {
  /** First delay (default 100 ms); doubles on every failed attempt. */
  initialDelayMs?: number;
  /** Longest delay (default 5000 ms). */
  maxDelayMs?: number;
  /** Consecutive failed attempts before giving up (default: never give up). */
  maxAttempts?: number;
}

/** Backoff delays: `initial * 2^n` capped at `max`, each between 50% and 100% of that. */
export class Backoff {
  private attempt = 0;
  private readonly initial: number;
  private readonly max: number;
  private readonly maxAttempts: number;

  constructor(opts: ReconnectOptions = {}) {
    this.initial = opts.initialDelayMs ?? 100;
    this.max = opts.maxDelayMs ?? 5000;
    this.maxAttempts = opts.maxAttempts ?? Infinity;
  }

  /** The delay before the next attempt, or null when the attempts are used up. */
  next(): number | null {
    if (this.attempt >= this.maxAttempts) return null;
    const full = Math.min(this.max, this.initial * 2 ** Math.min(this.attempt++, 30));
    return Math.round(full * (0.5 + Math.random() / 2));
  }

  /** A connection worked: start again from the first delay. */
  reset(): void {
    this.attempt = 0;
  }
}

/** The client's view of one service: URLs, token and transports. */
export class Connection {
  readonly http: string;
  readonly ws: string;
  readonly sockets: SocketFactory;
  private readonly fetchImpl: typeof fetch;

  constructor(
    private readonly options: ClientOptions,
    defaultSockets: () => SocketFactory,
  ) {
    this.http = options.url.replace(/\/+$/, '');
    if (!/^https?:\/\//i.test(this.http))
      throw new StreamerError(`the service URL must be http(s)://..., got ${options.url}`);
    this.ws = this.http.replace(/^http/i, 'ws');
    this.sockets = options.sockets ?? defaultSockets();
    const globalFetch = (globalThis as { fetch?: typeof fetch }).fetch;
    this.fetchImpl = options.fetch ?? ((input, init) => globalFetch!(input, init));
  }

  /** The current token (a function source is asked anew). */
  async token(): Promise<string | undefined> {
    const t = this.options.token;
    return typeof t === 'function' ? t() : t;
  }

  /** An authenticated HTTP request, whatever its status; network failures throw StreamerError. */
  async send(path: string, init: RequestInit = {}): Promise<Response> {
    const token = await this.token();
    const headers = new Headers(init.headers);
    if (token) headers.set('Authorization', `Bearer ${token}`);
    try {
      return await this.fetchImpl(`${this.http}${path}`, { ...init, headers });
    } catch (err) {
      throw networkError(this.http, err);
    }
  }

  /** An authenticated HTTP request; a status outside 2xx throws StreamerError with the service's `detail`. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await this.send(path, init);
    if (!res.ok) {
      throw StreamerError.fromResponse(
        res.status,
        await res.text(),
        `${init.method ?? 'GET'} ${path.replace(/\?.*/, '')}`,
      );
    }
    return res;
  }
}

/** `a+b` with every id URL-encoded (a `/` becomes `%2F`), the `+` kept as the separator. */
export function streamPath(streamIds: string): string {
  return streamIds
    .split('+')
    .map((s) => encodeURIComponent(s.trim()).replace(/%2A/gi, '*'))
    .join('+');
}

/** A query string of the defined values (`+` in values is sent as `%2B`). */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== false) q.set(k, v === true ? '1' : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
