import type { IncomingMessage } from 'node:http';

/**
 * The bearer token of a request: `Authorization: Bearer <t>`, else `?token=<t>` (browsers cannot
 * set headers on a WebSocket). Never log the result or the raw URL.
 */
export function extractToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? m[1] : null;
  }
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q < 0) return null;
  const token = new URLSearchParams(url.slice(q + 1)).get('token');
  return token || null;
}
