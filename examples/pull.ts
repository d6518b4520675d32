// Pull entries over WebSocket from the start of a stream, then follow its tail:
//   npm run example:pull -- <stream_id>
// Uses REDIS_STREAMER_URL (default http://127.0.0.1:8000) and dev-mode credentials.
import WebSocket from 'ws';
import { getToken } from './push';

export interface Entry {
  streamId: string;
  id: string;
  data: Buffer;
}

/**
 * Calls `onEntry` for every entry after `lastEntryId` until `signal` aborts. Each message is a
 * text header `[[stream_id, entry_id, start_offset], ...]` followed by one binary frame.
 */
export function pullEntries(
  wsUrl: string,
  token: string,
  streamId: string,
  lastEntryId: string,
  onEntry: (e: Entry) => void,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const query = new URLSearchParams({ last_entry_id: lastEntryId, count: '100' });
    const ws = new WebSocket(`${wsUrl}/data/${encodeURIComponent(streamId)}/pull?${query.toString()}`, {
      headers: { Authorization: `Bearer ${token}` },
      maxPayload: 256 * 1024 * 1024,
    });
    let header: [string, string, number][] | null = null;
    ws.on('message', (frame: Buffer, binary: boolean) => {
      if (!binary) {
        header = JSON.parse(frame.toString()) as [string, string, number][];
        return;
      }
      header?.forEach(([sid, id, start], i) => {
        const end = i + 1 < header!.length ? header![i + 1][2] : frame.length;
        onEntry({ streamId: sid, id, data: frame.subarray(start, end) });
      });
      header = null;
    });
    signal.addEventListener('abort', () => ws.close(1000));
    ws.once('close', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

async function main(): Promise<void> {
  const http = process.env.REDIS_STREAMER_URL ?? 'http://127.0.0.1:8000';
  const [streamId = 'counter'] = process.argv.slice(2);
  const token = await getToken(http, 'example', 'example');
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  await pullEntries(
    http.replace(/^http/, 'ws'),
    token,
    streamId,
    '0',
    (e) => {
      console.log(`${e.streamId} ${e.id} ${e.data.length} bytes: ${e.data.toString('utf8').slice(0, 60)}`);
    },
    stop.signal,
  );
}

if (require.main === module) main().catch((err: Error) => (console.error(err.message), process.exit(1)));
