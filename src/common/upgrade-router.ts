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
 * with an HTTP status instead. Also enforces WS_MAX_CONNECTIONS over all endpoints and
 * WS_MAX_CONNECTIONS_PER_USER over the endpoints that reserve() their user.
 */
@Injectable()
export class UpgradeRouter implements OnApplicationBootstrap {
  private readonly logger = new Logger(UpgradeRouter.name);
  private readonly routes: Route[] = [];
  private readonly sockets = new Set<WebSocket>();
  private readonly maxConnections: number;
  private readonly maxPerUser: number;
  /** Open or being-accepted sockets per user (WS_MAX_CONNECTIONS_PER_USER). */
  private readonly perUser = new Map<string, number>();
  /** The user an upgrade request was reserved for, until its socket is tracked or the upgrade fails. */
  private readonly reserved = new WeakMap<IncomingMessage, string>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: MetricsService,
    config: AppConfig,
  ) {
    this.maxConnections = config.get('WS_MAX_CONNECTIONS');
    this.maxPerUser = config.get('WS_MAX_CONNECTIONS_PER_USER');
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
      this.release(req);
    } catch (err) {
      this.release(req);
      if (err instanceof UpgradeRefusal) return WsAuthService.refuse(socket, err);
      // A client that hung up while its upgrade was being checked: nothing to answer or report.
      if (socket.destroyed) return;
      this.logger.error(`upgrade failed: ${(err as Error).stack ?? String(err)}`);
      WsAuthService.refuse(socket, new UpgradeRefusal(503, 'Service unavailable'));
    }
  }

  /**
   * Counts an authenticated upgrade against its user's limit before it is accepted (a handler
   * calls this once it knows the user); refuses with 503 past WS_MAX_CONNECTIONS_PER_USER.
   */
  reserve(req: IncomingMessage, username: string): void {
    if (this.reserved.has(req)) return;
    const open = this.perUser.get(username) ?? 0;
    if (open >= this.maxPerUser) {
      throw new UpgradeRefusal(429, `Too many WebSocket connections for this user (limit ${this.maxPerUser})`);
    }
    this.perUser.set(username, open + 1);
    this.reserved.set(req, username);
  }

  /** Gives back a reservation whose upgrade did not end in a tracked socket. */
  private release(req: IncomingMessage): void {
    const username = this.reserved.get(req);
    if (username === undefined) return;
    this.reserved.delete(req);
    this.unreserve(username);
  }

  private unreserve(username: string): void {
    const left = (this.perUser.get(username) ?? 1) - 1;
    if (left > 0) this.perUser.set(username, left);
    else this.perUser.delete(username);
  }

  /**
   * Counts an accepted socket against the limits and in the metrics until it closes; `req` carries
   * the user's reservation, if any, which the socket now holds.
   */
  track(ws: WebSocket, endpoint: string, req?: IncomingMessage): void {
    const username = req ? this.reserved.get(req) : undefined;
    if (req) this.reserved.delete(req);
    this.sockets.add(ws);
    this.metrics.openSockets.inc({ endpoint });
    ws.once('close', () => {
      this.sockets.delete(ws);
      this.metrics.openSockets.dec({ endpoint });
      if (username !== undefined) this.unreserve(username);
    });
  }

  get openSockets(): number {
    return this.sockets.size;
  }
}
