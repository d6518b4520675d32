import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * Holds a WebSocket's writes until the end of the current tick, so that the frames written in one
 * tick (a header and its blob, a reader's backlog, the acks of one Redis reply) leave in one
 * write system call instead of one each: on loopback each costs tens of µs (bench/,
 * BENCHMARKS.md). Frames and their order are unchanged.
 */
export class TickCork {
  private corked = false;

  constructor(private readonly ws: WebSocket) {}

  cork(): void {
    const socket = (this.ws as unknown as { _socket?: Socket })._socket;
    if (this.corked || !socket) return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }
}
