/**
 * The bare `ws` baseline: a WebSocket server in its own process that reads push frames the way the
 * gateway does (a text header announces the next binary frame) and, with `?ack=1`, answers every
 * binary frame with an ack of the same shape as the gateway's (comma-joined ids), but stores
 * nothing. What the gateway loses against it is the cost of the service itself plus Redis.
 */
import { WebSocketServer } from 'ws';

const FAKE_ID = '1700000000000-0';
const acks = new Map<number, string>();
const ackFor = (n: number): string => {
  let a = acks.get(n);
  if (!a) acks.set(n, (a = Array<string>(n).fill(FAKE_ID).join(',')));
  return a;
};

const server = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: false,
  maxPayload: 64 * 1024 * 1024,
});
server.on('connection', (ws, req) => {
  const ack = new URL(req.url ?? '/', 'http://x').searchParams.get('ack') === '1';
  let announced = 0;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) {
      announced = (JSON.parse(data.toString('utf8')) as unknown[]).length;
      return;
    }
    const n = announced || 1;
    announced = 0;
    if (ack) ws.send(ackFor(n));
  });
  ws.on('error', () => ws.terminate());
});
server.on('listening', () => process.send!({ port: (server.address() as { port: number }).port }));
process.on('disconnect', () => process.exit(0));
