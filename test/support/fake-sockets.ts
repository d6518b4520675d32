import { Connection } from '../../src/client/connection';
import type { SocketEvents, SocketFactory, SocketLike } from '../../src/client/socket';

/** A socket the test drives by hand: it records what the client sends. */
export class FakeSocket implements SocketLike {
  readonly sent: (string | Uint8Array)[] = [];
  bufferedAmount = 0;
  closedWith?: number;

  constructor(
    readonly url: string,
    readonly token: string | undefined,
    private readonly on: SocketEvents,
  ) {}

  send(data: string | Uint8Array): void {
    this.sent.push(data);
  }

  close(code = 1000): void {
    this.closedWith = code;
    setImmediate(() => this.on.close(code, ''));
  }

  open(): void {
    this.on.open();
  }

  message(data: string | Uint8Array): void {
    this.on.message(data);
  }

  /** The service (or the network) ends the connection. */
  drop(code = 1006, reason = ''): void {
    this.on.close(code, reason);
  }

  /** A refused upgrade. */
  refuse(err: Parameters<SocketEvents['error']>[0]): void {
    this.on.error(err);
    this.on.close(1006, '');
  }

  /** The pushed batches: header offsets and blob text, in send order. */
  batches(): { offsets: number[]; blob: string }[] {
    const out: { offsets: number[]; blob: string }[] = [];
    for (let i = 0; i + 1 < this.sent.length; i += 2) {
      out.push({
        offsets: JSON.parse(this.sent[i] as string) as number[],
        blob: Buffer.from(this.sent[i + 1] as Uint8Array).toString(),
      });
    }
    return out;
  }

  /** The query parameters of the URL the client connected to. */
  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }
}

/** A Connection whose sockets are FakeSockets, collected in `sockets` in creation order. */
export function fakeConnection(): { conn: Connection; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = [];
  const factory: SocketFactory = (url, token, on) => {
    const s = new FakeSocket(url, token, on);
    sockets.push(s);
    return s;
  };
  return { conn: new Connection({ url: 'http://svc.test', token: 'tok', sockets: factory }, () => factory), sockets };
}

/** Lets promises and immediates run (the client opens sockets after resolving its token). */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Waits until `sockets` has `n` sockets (reconnections wait for their backoff delay). */
export async function socketCount(sockets: FakeSocket[], n: number, ms = 2000): Promise<FakeSocket> {
  const deadline = Date.now() + ms;
  while (sockets.length < n) {
    if (Date.now() > deadline) throw new Error(`only ${sockets.length} sockets`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return sockets[n - 1];
}
