/** Paths and limits of the REST data routes and SSE (PROTOCOL §5). */
import { StreamError } from '../streams/stream-error';
import { parseStreamPath } from '../streams/stream-id';

export const DEFAULT_BLOCK_MS = 500;
export const MAX_BLOCK_MS = 30_000;
export const DEFAULT_HEARTBEAT_MS = 15_000;

const WS_SUFFIXES = new Set(['push', 'pull']);

/**
 * The stream path of a `/data/*path` route: its segments joined back (an encoded `%2F` arrives
 * inside its segment). `/data/x/push` and `/pull` are the WebSocket endpoints, never stream ids.
 */
export function streamPath(segments: string[]): string {
  const last = segments[segments.length - 1];
  if (segments.length > 1 && WS_SUFFIXES.has(last)) {
    throw new StreamError('BAD_REQUEST', `/data/{stream_id}/${last} is a WebSocket endpoint: connect with ws://`);
  }
  return segments.join('/');
}

/**
 * The stream ids of a REST read path: one id or several joined by `+`. Patterns (`*`, `imu*`)
 * are refused: these reads name their streams.
 */
export function namedStreams(segments: string[]): string[] {
  const parsed = parseStreamPath(streamPath(segments), 'pull');
  if (parsed.kind !== 'list') {
    throw new StreamError('BAD_REQUEST', 'name the streams to read (a or a+b); * and patterns are not served here');
  }
  return parsed.ids;
}
