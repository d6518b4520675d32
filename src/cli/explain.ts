import { StreamerError } from '../client';

const STATUS_HINTS: Record<number, string> = {
  400: 'the service refused the request as malformed',
  401: 'not authenticated: the token is missing, invalid or expired (get one with `redis-streamer token --user U --password P`, then set REDIS_STREAMER_TOKEN, or pass --user/--password)',
  403: "forbidden: the token's user has no permission for this stream or operation",
  404: 'not found',
  413: 'too large for the service (HTTP_MAX_BODY)',
  415: 'unsupported content type',
  503: 'service unavailable (Redis down, too many connections, or shutting down)',
};

const CLOSE_HINTS: Record<number, string> = {
  1001: 'the service is shutting down',
  1006: 'the connection was lost',
  1007: 'the service refused the data: bad header, offsets or frame order',
  1008: 'forbidden stream or bad id',
  1009: 'a frame was larger than the service accepts (WS_MAX_PAYLOAD): push smaller batches (--batch)',
  1011: 'storage failure on the service (Redis unreachable, out of memory, or an id not above the last)',
};

/** A one-line message for an error of a command, naming the status or close code and what it means. */
export function explain(err: unknown, url: string): string {
  if (!(err instanceof StreamerError)) return err instanceof Error ? err.message : String(err);
  const detail = err.detail ? `: ${err.detail}` : '';
  if (err.status === 401 && err.detail === 'Incorrect username or password') return `HTTP 401${detail}`;
  if (err.status !== undefined) {
    return `HTTP ${err.status}${detail} (${STATUS_HINTS[err.status] ?? 'refused'})`;
  }
  if (err.closeCode !== undefined) {
    return `connection closed with ${err.closeCode}${detail} (${CLOSE_HINTS[err.closeCode] ?? 'closed'})`;
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|fetch failed/.test(err.message)) {
    return `cannot reach the service at ${url} (${err.message}): is it running? (--url or REDIS_STREAMER_URL)`;
  }
  return err.message;
}
