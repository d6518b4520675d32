import type { WebSocket } from 'ws';
import { isRedisUnavailable } from '../common/http-error.filter';
import { StreamError } from '../streams/stream-error';
import { CodecError, closeCodeFor } from './push-codec';

/** WebSocket close codes of PROTOCOL §3. */
export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  BAD_DATA: 1007,
  POLICY: 1008,
  TOO_BIG: 1009,
  INTERNAL: 1011,
} as const;

/** Maps an error of a push or pull to a close code and a short reason (no internals). */
export function closeFor(err: unknown): { code: number; reason: string } {
  if (err instanceof CodecError) return { code: closeCodeFor(err.code), reason: err.message };
  if (err instanceof StreamError) {
    return { code: err.code === 'BAD_REQUEST' ? CLOSE.BAD_DATA : CLOSE.POLICY, reason: err.message };
  }
  const msg = err instanceof Error ? err.message : '';
  if (msg.startsWith('IDTOOSMALL') || msg.includes('equal or smaller than the target stream top item')) {
    return { code: CLOSE.INTERNAL, reason: 'storage refused the batch: entry id not greater than the last one' };
  }
  if (msg.startsWith('WRONGTYPE'))
    return { code: CLOSE.INTERNAL, reason: 'storage refused the batch: key is not a stream' };
  if (msg.startsWith('OOM')) return { code: CLOSE.INTERNAL, reason: 'storage full (Redis out of memory)' };
  if (isRedisUnavailable(err)) return { code: CLOSE.INTERNAL, reason: 'storage unavailable' };
  return { code: CLOSE.INTERNAL, reason: 'internal error' };
}

/** Closes with a reason cut to the 123 bytes a close frame allows. */
export function closeWith(ws: WebSocket, code: number, reason: string): void {
  let r = Buffer.from(reason);
  if (r.length > 123) r = r.subarray(0, 120);
  ws.close(code, r.toString('utf8').replace(/\uFFFD$/, ''));
}
