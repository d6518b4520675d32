import WebSocket from 'ws';

/** A real `ws` client that queues every frame so tests can await them in order. */
export class TestSocket {
  readonly frames: { data: Buffer; binary: boolean }[] = [];
  private waiters: (() => void)[] = [];
  closed?: { code: number; reason: string };
  /** Headers of the server's upgrade answer. */
  headers: Record<string, string | string[] | undefined> = {};
  private closeWaiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      this.frames.push({ data, binary });
      this.waiters.splice(0).forEach((w) => w());
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString() };
      this.waiters.splice(0).forEach((w) => w());
      this.closeWaiters.splice(0).forEach((w) => w());
    });
    ws.on('error', () => undefined);
  }

  /** Opens a socket; rejects with the HTTP status when the upgrade is refused. */
  static open(url: string, token?: string, options: WebSocket.ClientOptions = {}): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        maxPayload: 256 * 1024 * 1024,
        ...options,
      });
      const socket = new TestSocket(ws);
      ws.once('upgrade', (res) => (socket.headers = res.headers));
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })),
        );
      });
      ws.once('error', reject);
    });
  }

  /** Next frame (waits up to `ms`). */
  async next(ms = 5000): Promise<{ data: Buffer; binary: boolean }> {
    const deadline = Date.now() + ms;
    while (this.frames.length === 0) {
      if (this.closed) throw new Error(`socket closed ${this.closed.code} ${this.closed.reason}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no frame in time');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.frames.shift()!;
  }

  async nextText(ms?: number): Promise<string> {
    const f = await this.next(ms);
    if (f.binary) throw new Error('expected a text frame, got binary');
    return f.data.toString();
  }

  /** A pull message: text header then binary blob, split into entries. */
  async message(ms?: number): Promise<{ streamId: string; id: string; data: Buffer }[]> {
    const header = JSON.parse(await this.nextText(ms)) as [string, string, number][];
    const blob = await this.next(ms);
    if (!blob.binary) throw new Error('expected a binary frame after the header');
    return header.map(([streamId, id, start], i) => ({
      streamId,
      id,
      data: blob.data.subarray(start, i + 1 < header.length ? header[i + 1][2] : blob.data.length),
    }));
  }

  send(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.ws.send(data, (err) => (err ? reject(err) : resolve())));
  }

  /** Waits for the close and returns its code and reason. */
  async closedWith(ms = 5000): Promise<{ code: number; reason: string }> {
    if (!this.closed) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, ms);
        this.closeWaiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    if (!this.closed) throw new Error('socket did not close in time');
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }

  /** True when no frame arrives within `ms`. */
  async silentFor(ms: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.frames.length === 0;
  }
}
