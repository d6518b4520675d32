/** Server-Sent Events framing (WHATWG HTML §9.2). Pure. */

export type SseEncoding = 'utf8' | 'base64';

/** Response headers of an event stream; `X-Accel-Buffering` keeps nginx from holding events back. */
export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
} as const;

/** How long a browser waits before it reconnects (sent once, as `retry:`). */
export const RETRY_MS = 1000;

export const KEEP_ALIVE = ': keep-alive\n\n';

/**
 * One event. `id` is what the browser sends back as `Last-Event-ID`. A payload is one `data:`
 * line per line of text (the receiver joins them with LF, so CR LF and lone CR come back as LF:
 * send binary or CR-exact payloads with base64).
 */
export function sseEvent(id: string, payload: Buffer, encoding: SseEncoding, event?: string): string {
  let out = `id: ${id}\n`;
  if (event !== undefined) out += `event: ${event}\n`;
  const text = encoding === 'base64' ? payload.toString('base64') : payload.toString('utf8');
  for (const line of text.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}
