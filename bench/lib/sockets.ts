import WebSocket from 'ws';

export type OnMessage = (data: Buffer, isBinary: boolean) => void;

/**
 * Opens a WebSocket (bearer token in the header); rejects with the HTTP status of a refusal.
 * `onMessage` is attached before the upgrade completes: frames sent right behind the 101 answer
 * can be delivered before a listener added after `await` would be.
 */
export function openSocket(url: string, token?: string, onMessage?: OnMessage): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      perMessageDeflate: false,
      maxPayload: 512 * 1024 * 1024,
    });
    if (onMessage) ws.on('message', onMessage);
    ws.once('open', () => {
      ws.off('error', reject);
      ws.on('error', () => undefined);
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      ws.off('error', reject);
      ws.on('error', () => undefined);
      reject(new Error(`${url}: upgrade refused with HTTP ${res.statusCode}`));
      res.resume();
    });
    ws.once('error', reject);
  });
}

/** Opens `n` sockets, at most `concurrency` upgrades at a time. */
export async function openMany(n: number, concurrency: number, open: (i: number) => Promise<WebSocket>) {
  const sockets = new Array<WebSocket>(n);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      sockets[i] = await open(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
  return sockets;
}

/** Closes sockets and waits for their close handshakes (at most `timeoutMs`). */
export async function closeAll(sockets: WebSocket[], timeoutMs = 5000): Promise<void> {
  const closed = sockets.map(
    (ws) =>
      new Promise<void>((done) => {
        if (ws.readyState === WebSocket.CLOSED) return done();
        ws.once('close', () => done());
        ws.close();
      }),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(closed), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
  clearTimeout(timer);
  for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
}

/** Rejects when the server closes the socket (e.g. 1007 bad header): a benchmark must not hang. */
export function failOnClose(ws: WebSocket): Promise<never> {
  return new Promise((_, fail) =>
    ws.once('close', (code, reason) => fail(new Error(`socket closed by the server: ${code} ${reason.toString()}`))),
  );
}
