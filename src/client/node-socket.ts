import WebSocket from 'ws';
import { StreamerError } from './errors';
import type { SocketFactory } from './socket';

/** Largest frame accepted from the service (a pull message holds `count` entries per stream). */
const MAX_FRAME = 1024 * 1024 * 1024;

/**
 * Node sockets on `ws`: the token goes in the `Authorization` header (never in a URL that a proxy
 * might log), and a refused upgrade reports its HTTP status and `detail`.
 */
export const nodeSockets: SocketFactory = (url, token, on) => {
  const ws = new WebSocket(url, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    maxPayload: MAX_FRAME,
    perMessageDeflate: false,
  });
  let failed = false;
  const fail = (err: StreamerError): void => {
    if (!failed) on.error(err);
    failed = true;
  };
  ws.on('open', () => on.open());
  ws.on('message', (data: Buffer, binary: boolean) => on.message(binary ? data : data.toString('utf8')));
  ws.on('unexpected-response', (_req, res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk));
    const refused = (): void => {
      fail(StreamerError.fromResponse(res.statusCode ?? 0, body, 'WebSocket upgrade'));
      ws.terminate();
    };
    res.once('end', refused);
    res.once('error', refused);
  });
  ws.on('error', (err) => fail(new StreamerError(`${url.replace(/\?.*/, '')}: ${err.message}`)));
  ws.on('close', (code, reason) => on.close(code, reason.toString('utf8')));
  return {
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
  };
};
