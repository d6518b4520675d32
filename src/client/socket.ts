import { StreamerError } from './errors';

/** What the client needs of an open WebSocket. */
export interface SocketLike {
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** Bytes queued by `send` and not yet handed to the network. */
  readonly bufferedAmount: number;
}

/** The events of one socket; `close` always comes last, also after a refused upgrade. */
export interface SocketEvents {
  open(): void;
  /** A text frame as a string, a binary frame as bytes. */
  message(data: string | Uint8Array): void;
  /** Why the connection failed (a refused upgrade carries its HTTP status). */
  error(err: StreamerError): void;
  close(code: number, reason: string): void;
}

/** Opens a WebSocket to `url` authenticated with `token`; Node's is `nodeSockets`, browsers' `webSockets()`. */
export type SocketFactory = (url: string, token: string | undefined, events: SocketEvents) => SocketLike;

/** The parts of the WHATWG WebSocket that `webSockets` uses. */
interface WhatwgSocket {
  binaryType: string;
  readonly bufferedAmount: number;
  onopen: (() => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: (() => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** A WHATWG WebSocket constructor (the browser's global, or Node 22's). */
export type WhatwgSocketConstructor = new (url: string) => WhatwgSocket;

/** `url` with `?token=`: browsers cannot set headers on a WebSocket, the service reads the query too. */
export function withQueryToken(url: string, token: string | undefined): string {
  if (!token) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

/**
 * Sockets from a WHATWG WebSocket constructor, by default the global one (browsers). The token
 * travels in the query string. Browsers do not expose the HTTP status of a refused upgrade: a
 * `401` looks like a lost connection (1006) and is retried, so bound `reconnect.maxAttempts`.
 */
export function webSockets(Ctor?: WhatwgSocketConstructor): SocketFactory {
  const Impl = Ctor ?? (globalThis as unknown as { WebSocket?: WhatwgSocketConstructor }).WebSocket;
  if (!Impl) throw new StreamerError('no global WebSocket here: in Node, import the client from its index (uses ws)');
  return (url, token, on) => {
    const ws = new Impl(withQueryToken(url, token));
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => on.open();
    ws.onmessage = (ev) => on.message(typeof ev.data === 'string' ? ev.data : new Uint8Array(ev.data as ArrayBuffer));
    ws.onerror = () => on.error(new StreamerError(`cannot connect to ${url}`));
    ws.onclose = (ev) => on.close(ev.code, ev.reason);
    return ws;
  };
}
