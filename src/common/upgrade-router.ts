import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { UpgradeRefusal, WsAuthService } from '../auth/ws-auth.service';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../health/metrics.service';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => Promise<void> | void;

interface Route {
  name: string;
  match: (pathname: string) => boolean;
  handle: UpgradeHandler;
}

/**
 * The one `upgrade` listener of the HTTP server. Each WebSocket endpoint registers a path matcher;
 * a handler authenticates and validates before it accepts, and throws an UpgradeRefusal to answer
 * with an HTTP status instead. Also enforces WS_MAX_CONNECTIONS over all endpoints.
 */
@Injectable()
export class UpgradeRouter implements OnApplicationBootstrap {
  private readonly logger = new Logger(UpgradeRouter.name);
  private readonly routes: Route[] = [];
  private readonly sockets = new Set<WebSocket>();
  private readonly maxConnections: number;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: MetricsService,
    config: AppConfig,
  ) {
    this.maxConnections = config.get('WS_MAX_CONNECTIONS');
  }

  register(name: string, match: (pathname: string) => boolean, handle: UpgradeHandler): void {
    this.routes.push({ name, match, handle });
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.route(req, socket, head);
    });
  }

  private async route(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const route = this.routes.find((r) => r.match(url.pathname));
      if (!route) throw new UpgradeRefusal(404, 'No WebSocket endpoint at this path');
      if (this.sockets.size >= this.maxConnections) {
        throw new UpgradeRefusal(503, `Too many WebSocket connections (limit ${this.maxConnections})`);
      }
      await route.handle(req, socket, head, url);
    } catch (err) {
      if (err instanceof UpgradeRefusal) return WsAuthService.refuse(socket, err);
      this.logger.error(`upgrade failed: ${(err as Error).stack ?? String(err)}`);
      WsAuthService.refuse(socket, new UpgradeRefusal(503, 'Service unavailable'));
    }
  }

  /** Counts an accepted socket against the limit and in the metrics until it closes. */
  track(ws: WebSocket, endpoint: string): void {
    this.sockets.add(ws);
    this.metrics.openSockets.inc({ endpoint });
    ws.once('close', () => {
      this.sockets.delete(ws);
      this.metrics.openSockets.dec({ endpoint });
    });
  }

  get openSockets(): number {
    return this.sockets.size;
  }
}
