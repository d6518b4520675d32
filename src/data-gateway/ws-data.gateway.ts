import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { AuthUser } from '../auth/auth-user';
import { UpgradeRefusal, WsAuthService } from '../auth/ws-auth.service';
import { UpgradeRouter } from '../common/upgrade-router';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../health/metrics.service';
import { StreamError } from '../streams/stream-error';
import { parseStreamPath, StreamIdError } from '../streams/stream-id';
import { StreamKeys } from '../streams/stream-keys.service';
import { StreamReaders } from '../streams/stream-readers.service';
import { StreamWriter } from '../streams/stream-writer.service';
import { PullSession } from './pull-session';
import { PushSession } from './push-session';
import { parsePullQuery, parsePushQuery, QueryError } from './ws-query';

const DATA_PATH = /^\/data\/(.+)\/(push|pull)$/;

/** Turns validation failures into the HTTP answer of a refused upgrade. */
function refusalFor(err: unknown): unknown {
  if (err instanceof QueryError || err instanceof StreamIdError || err instanceof URIError)
    return new UpgradeRefusal(400, err.message);
  if (err instanceof StreamError) return new UpgradeRefusal(err.code === 'FORBIDDEN' ? 403 : 400, err.message);
  return err;
}

/**
 * `ws://host/data/{stream_id}/push` and `/pull` (PROTOCOL §3, §4) on the `ws` library with raw
 * frames. Nest's gateway decorators cannot route on path templates nor refuse an upgrade with
 * 401/403 before accepting it, so the endpoints hang off the shared UpgradeRouter instead:
 * authenticate, validate and check permissions first, then accept.
 */
@Injectable()
export class WsDataGateway implements OnModuleInit, BeforeApplicationShutdown {
  private readonly server: WebSocketServer;
  private readonly pushes = new Set<PushSession>();
  private readonly pulls = new Set<PullSession>();
  private readonly alive = new WeakMap<WebSocket, boolean>();
  private pinger?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    private readonly router: UpgradeRouter,
    private readonly auth: WsAuthService,
    private readonly keys: StreamKeys,
    private readonly writer: StreamWriter,
    private readonly readers: StreamReaders,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {
    // maxPayload is enforced by ws while reading a frame: larger frames close with 1009 unbuffered.
    this.server = new WebSocketServer({
      noServer: true,
      maxPayload: config.get('WS_MAX_PAYLOAD'),
      perMessageDeflate: false,
    });
  }

  onModuleInit(): void {
    this.router.register(
      'data',
      (p) => DATA_PATH.test(p),
      (req, socket, head, url) => this.upgrade(req, socket, head, url),
    );
    this.pinger = setInterval(() => this.ping(), this.config.get('WS_PING_MS')).unref();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    if (this.stopping) throw new UpgradeRefusal(503, 'Server shutting down');
    const user = this.auth.authenticate(req);
    const [, rawPath, kind] = DATA_PATH.exec(url.pathname)!;
    try {
      if (kind === 'push') await this.acceptPush(req, socket, head, user, rawPath, url.searchParams);
      else await this.acceptPull(req, socket, head, user, rawPath, url.searchParams);
    } catch (err) {
      throw refusalFor(err);
    }
  }

  private async acceptPush(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    user: AuthUser,
    rawPath: string,
    params: URLSearchParams,
  ): Promise<void> {
    const query = parsePushQuery(params);
    const device = this.keys.device(query.deviceId);
    const path = parseStreamPath(decodeURIComponent(rawPath), 'push');
    const pathStreams = path.kind === 'list' ? path.ids : null;
    if (pathStreams) this.writer.writableKeys(user, device, pathStreams);
    const ws = await this.accept(req, socket, head, 'push');
    const session = new PushSession(
      ws,
      { user, device, pathStreams, query },
      this.writer,
      this.config.get('WS_MAX_PAYLOAD') * 2,
    );
    this.pushes.add(session);
    ws.once('close', () => this.pushes.delete(session));
  }

  private async acceptPull(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    user: AuthUser,
    rawPath: string,
    params: URLSearchParams,
  ): Promise<void> {
    const query = parsePullQuery(params);
    const device = this.keys.device(query.deviceId);
    const path = parseStreamPath(decodeURIComponent(rawPath), 'pull');
    const count = StreamReaders.count(query.count);
    if (!query.header && (count !== 1 || path.kind !== 'list' || path.ids.length !== 1)) {
      throw new QueryError('header=0 needs a single stream and count=1 (one entry per message)');
    }
    // Cursors are resolved (`$` by Redis) at the request, before the socket is accepted.
    const reader = await this.readers.openPath(user, device, path, query.lastEntryId, { count, latest: query.latest });
    let ws: WebSocket;
    try {
      ws = await this.accept(req, socket, head, 'pull');
    } catch (err) {
      reader.close();
      throw err;
    }
    const streamIdOf = (key: string): string => this.keys.streamId(key, device);
    const session = new PullSession(ws, reader, streamIdOf, query, this.config.get('PULL_MAX_BUFFERED'), this.metrics);
    this.pulls.add(session);
    ws.once('close', () => this.pulls.delete(session));
    void session.run();
  }

  private accept(req: IncomingMessage, socket: Duplex, head: Buffer, endpoint: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      if (socket.destroyed) return reject(new Error('client went away during the upgrade'));
      this.server.handleUpgrade(req, socket, head, (ws) => {
        this.router.track(ws, endpoint);
        this.alive.set(ws, true);
        ws.on('pong', () => this.alive.set(ws, true));
        ws.on('error', () => ws.terminate());
        resolve(ws);
      });
    });
  }

  /** Terminates peers that did not answer the previous ping. */
  private ping(): void {
    for (const ws of this.server.clients) {
      if (!this.alive.get(ws)) {
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
      ws.ping();
    }
  }

  /** Stop accepting, finish in-flight batches and their acks, then close every socket with 1001. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.pinger);
    for (const pull of this.pulls) pull.shutdown();
    await Promise.all([...this.pushes].map((push) => push.shutdown()));
    const closing = [...this.server.clients].map(
      (ws) =>
        new Promise<void>((done) => (ws.readyState === WebSocket.CLOSED ? done() : ws.once('close', () => done()))),
    );
    const timeout = new Promise<void>((done) => setTimeout(done, 2000).unref());
    await Promise.race([Promise.all(closing), timeout]);
    for (const ws of this.server.clients) ws.terminate();
    this.server.close();
  }
}
