import http, { IncomingMessage } from 'node:http';

export interface SseEvent {
  id: string;
  event: string;
  data: string;
}

/**
 * An EventSource-style client over node:http that parses the stream as the WHATWG spec says
 * (fields, comments, CR/LF/CRLF line ends, `lastEventId` kept across events) and can be cut
 * off at any moment to force a disconnect.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retry?: number;
  lastEventId = '';
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  body = '';
  ended = false;
  private req?: http.ClientRequest;
  private res?: IncomingMessage;
  private waiters: (() => void)[] = [];
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private pendingId: string | null = null;

  /** Connects; resolves once the response headers arrived. */
  static connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    return new Promise((resolve, reject) => {
      client.req = http.get(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
        client.res = res;
        client.status = res.statusCode ?? 0;
        client.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => client.feed(chunk));
        res.on('end', () => client.finish());
        res.on('error', () => client.finish());
        res.on('close', () => client.finish());
        resolve(client);
      });
      client.req.on('error', (err) => (client.status ? client.finish() : reject(err)));
    });
  }

  private finish(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    this.waiters.splice(0).forEach((w) => w());
  }

  private feed(chunk: string): void {
    if (this.status !== 200) {
      this.body += chunk;
      return;
    }
    this.buffer += chunk;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      // A lone CR at the very end may be the first half of CRLF: wait for more.
      if (!m || (m[0] === '\r' && m.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      this.line(line);
    }
    this.wake();
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return void this.comments.push(line.slice(1).trim());
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.pendingId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }

  private dispatch(): void {
    if (this.pendingId !== null) this.lastEventId = this.pendingId;
    this.pendingId = null;
    if (this.data.length > 0) {
      this.events.push({ id: this.lastEventId, event: this.event || 'message', data: this.data.join('\n') });
    }
    this.data = [];
    this.event = '';
  }

  /** Waits until `check` holds (re-checked on every chunk), failing after `ms`. */
  async until(check: () => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (this.ended) throw new Error(`stream ended; ${this.events.length} events`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.events.length} events`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Cuts the connection as a network failure would. */
  destroy(): void {
    this.res?.destroy();
    this.req?.destroy();
  }
}
