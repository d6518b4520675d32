// Push entries over WebSocket in batches with acks:
//   npm run example:push -- <stream_id> [count]
// Uses REDIS_STREAMER_URL (default http://127.0.0.1:8000) and dev-mode credentials.
import WebSocket from 'ws';

/** Sends `payloads` as one header + blob batch and resolves to the ids the server acked. */
export function pushBatch(wsUrl: string, token: string, streamId: string, payloads: Buffer[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}/data/${encodeURIComponent(streamId)}/push?ack=1`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    ws.once('open', () => {
      // Start offsets (first value 0): entry i runs from offsets[i] to offsets[i + 1].
      const offsets: number[] = [];
      let at = 0;
      for (const p of payloads) {
        offsets.push(at);
        at += p.length;
      }
      ws.send(JSON.stringify(offsets));
      ws.send(Buffer.concat(payloads));
    });
    ws.once('message', (ack: Buffer) => {
      resolve(ack.toString().split(','));
      ws.close();
    });
    ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** A token from POST /token. */
export async function getToken(httpUrl: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${httpUrl}/token`, { method: 'POST', body: new URLSearchParams({ username, password }) });
  if (!res.ok) throw new Error(`token: HTTP ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function main(): Promise<void> {
  const http = process.env.REDIS_STREAMER_URL ?? 'http://127.0.0.1:8000';
  const [streamId = 'counter', count = '10'] = process.argv.slice(2);
  const token = await getToken(http, 'example', 'example');
  const payloads = Array.from({ length: Number(count) }, (_, i) => Buffer.from(String(i)));
  const ids = await pushBatch(http.replace(/^http/, 'ws'), token, streamId, payloads);
  console.log(`stored ${ids.length} entries in ${streamId}: ${ids[0]} .. ${ids[ids.length - 1]}`);
}

if (require.main === module) main().catch((err: Error) => (console.error(err.message), process.exit(1)));
