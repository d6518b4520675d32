import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { ServerResponse } from 'node:http';

export interface RequestLifetime {
  /** Aborted when the client goes away or the service shuts down. */
  signal: AbortSignal;
  release(): void;
}

/**
 * Long-lived HTTP responses (blocking GET, SSE): each gets a signal that aborts the moment its
 * client disconnects, so a wait on the read hub ends at once and frees the reader; all of them
 * abort when shutdown starts. `onModuleDestroy`, the first shutdown hook: GraphQL's module
 * (deeper, so destroyed later) drains every HTTP connection of the server for up to 10 s.
 */
@Injectable()
export class RequestLifetimes implements OnModuleDestroy {
  private readonly open = new Set<AbortController>();
  private stopping = false;

  track(res: ServerResponse): RequestLifetime {
    const ac = new AbortController();
    // The response's 'close' fires on a client disconnect and after the last byte was sent
    // (Node 16+ also fires the request's 'close' only then, so that is no earlier).
    const onClose = (): void => ac.abort();
    res.once('close', onClose);
    if (this.stopping) ac.abort();
    this.open.add(ac);
    return {
      signal: ac.signal,
      release: () => {
        res.off('close', onClose);
        this.open.delete(ac);
      },
    };
  }

  get size(): number {
    return this.open.size;
  }

  onModuleDestroy(): void {
    this.stopping = true;
    for (const ac of this.open) ac.abort();
  }
}
