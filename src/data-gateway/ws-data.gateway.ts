import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
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
import { ConsumerGroups, GroupOptions } from '../streams/consumer-groups.service';
import { StreamMetaService } from '../streams/stream-meta.service';
import { cursorToExclusiveId, IdError, idTime, isEntryId, parseCursor, parseRangeBound } from '../redis/entry-id';
import { randomBytes } from 'node:crypto';
import { GroupSession } from './group-session';
import { MessageSender } from './message-sender';
import { PullSession, ReplayEnd } from './pull-session';
import { PushSession } from './push-session';
import { parsePullQuery, parsePushQuery, PullQuery, QueryError } from './ws-query';

/** An upgrade request that passed authentication, on its way to being accepted. */
interface Upgrade {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  user: AuthUser;
}

const DATA_PATH = /^\/data\/(.+)\/(push|pull)$/;
const DEFAULT_CLAIM_IDLE_MS = 60_000;
const CONSUMER = Symbol('consumer');
type GroupRequest = IncomingMessage & { [CONSUMER]?: string };

/** `until` (an id or a time) as an inclusive end id and its time. */
function replayEnd(raw: string): ReplayEnd {
  try {
    const id = parseRangeBound(raw, 'end');
    if (!isEntryId(id)) throw new QueryError('until must be an entry id, a millisecond time or an ISO-8601 time');
    return { id, ms: idTime(id) };
  } catch (err) {
    if (err instanceof IdError) throw new QueryError(err.message);
    throw err;
  }
}

/** Where a new group starts: `$` (new entries only), `0` (whole history), an id or a time. */
function groupStart(raw: string): string {
  if (raw === '$') return '$';
  try {
    const cursor = cursorToExclusiveId(parseCursor(raw));
    if (cursor === null) return '$';
    return cursor;
  } catch (err) {
    if (err instanceof IdError) throw new QueryError(`group_start: ${err.message}`);
    throw err;
  }
}

/** Turns validation failures into the HTTP answer of a refused upgrade. */
function refusalFor(err: unknown): unknown {
  if (err instanceof QueryError || err instanceof StreamIdError || err instanceof URIError)
    return new UpgradeRefusal(400, err.message);
  if (err instanceof StreamError) {
    const status = err.code === 'FORBIDDEN' ? 403 : err.code === 'NOT_FOUND' ? 404 : 400;
    return new UpgradeRefusal(status, err.message);
  }
  return err;
}

/**
 * `ws://host/data/{stream_id}/push` and `/pull` (PROTOCOL §3, §4) on the `ws` library with raw
 * frames. Nest's gateway decorators cannot route on path templates nor refuse an upgrade with
 * 401/403 before accepting it, so the endpoints hang off the shared UpgradeRouter instead:
 * authenticate, validate and check permissions first, then accept.
 */
@Injectable()
export class WsDataGateway implements OnModuleInit, OnModuleDestroy {
  private readonly server: WebSocketServer;
  private readonly pushes = new Set<PushSession>();
  private readonly pulls = new Set<PullSession | GroupSession>();
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
    private readonly groups: ConsumerGroups,
    private readonly meta: StreamMetaService,
  ) {
    // maxPayload is enforced by ws while reading a frame: larger frames close with 1009 unbuffered.
    this.server = new WebSocketServer({
      noServer: true,
      maxPayload: config.get('WS_MAX_PAYLOAD'),
      perMessageDeflate: false,
    });
    this.server.on('headers', (headers: string[], req: GroupRequest) => {
      if (req[CONSUMER]) headers.push(`X-Consumer: ${req[CONSUMER]}`);
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
    this.router.reserve(req, user.username);
    const [, rawPath, kind] = DATA_PATH.exec(url.pathname)!;
    try {
      const u: Upgrade = { req, socket, head, user };
      if (kind === 'push') await this.acceptPush(u, rawPath, url.searchParams);
      else await this.acceptPull(u, rawPath, url.searchParams);
    } catch (err) {
      throw refusalFor(err);
    }
  }

  private async acceptPush(u: Upgrade, rawPath: string, params: URLSearchParams): Promise<void> {
    const { user } = u;
    const query = parsePushQuery(params);
    const device = this.keys.device(query.deviceId);
    const path = parseStreamPath(decodeURIComponent(rawPath), 'push');
    const pathStreams = path.kind === 'list' ? path.ids : null;
    if (pathStreams) this.writer.writableKeys(user, device, pathStreams);
    const ws = await this.accept(u, 'push');
    const session = new PushSession(
      ws,
      { user, device, pathStreams, query },
      this.writer,
      this.config.get('PUSH_MAX_IN_FLIGHT'),
    );
    this.pushes.add(session);
    ws.once('close', () => this.pushes.delete(session));
  }

  private async acceptPull(u: Upgrade, rawPath: string, params: URLSearchParams): Promise<void> {
    const { user } = u;
    const query = parsePullQuery(params);
    const device = this.keys.device(query.deviceId);
    const path = parseStreamPath(decodeURIComponent(rawPath), 'pull');
    const count = StreamReaders.count(query.count);
    if (!query.header && (count !== 1 || path.kind !== 'list' || path.ids.length !== 1)) {
      throw new QueryError('header=0 needs a single stream and count=1 (one entry per message)');
    }
    if (query.group) {
      if (path.kind !== 'list') throw new QueryError('a consumer-group pull names its streams');
      return this.acceptGroup(u, device, path.ids, count, query);
    }
    const until = query.until === undefined ? undefined : replayEnd(query.until);
    // Cursors are resolved (`$` by Redis) at the request, before the socket is accepted.
    const reader = await this.readers.openPath(user, device, path, query.lastEntryId, {
      count,
      latest: query.latest,
      readAhead: true,
    });
    let ws: WebSocket;
    try {
      ws = await this.accept(u, 'pull');
    } catch (err) {
      reader.close();
      throw err;
    }
    const session = new PullSession(ws, reader, this.sender(ws, device, query), query, until);
    this.pulls.add(session);
    ws.once('close', () => this.pulls.delete(session));
    void session.run();
  }

  private async acceptGroup(
    u: Upgrade,
    device: string,
    streamIds: string[],
    count: number,
    query: PullQuery,
  ): Promise<void> {
    const { req, user } = u;
    const g = query.group!;
    const keys = this.readers.readableKeys(user, device, streamIds);
    const [meta] = await this.meta.get(keys.slice(0, 1));
    const metaIdle = typeof meta?.claim_idle_ms === 'number' ? meta.claim_idle_ms : undefined;
    const options: GroupOptions = {
      group: g.group,
      consumer: g.consumer ?? `c-${randomBytes(6).toString('hex')}`,
      count,
      ackMode: g.ackMode,
      create: g.create,
      startId: groupStart(g.start),
      claimIdleMs: g.claimIdleMs ?? metaIdle ?? DEFAULT_CLAIM_IDLE_MS,
      maxDeliveries: g.maxDeliveries,
    };
    await this.groups.ensureGroup(keys, options);
    // The consumer name (generated or given) is told in the upgrade answer.
    (req as GroupRequest)[CONSUMER] = options.consumer;
    const ws = await this.accept(u, 'pull');
    const session = new GroupSession(ws, keys, options, this.groups, this.sender(ws, device, query));
    this.pulls.add(session);
    ws.once('close', () => this.pulls.delete(session));
    void session.run();
  }

  private sender(ws: WebSocket, device: string, query: PullQuery): MessageSender {
    const streamIdOf = (key: string): string => this.keys.streamId(key, device);
    return new MessageSender(ws, streamIdOf, query, this.config.get('PULL_MAX_BUFFERED'), this.metrics);
  }

  private accept({ req, socket, head }: Upgrade, endpoint: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      if (socket.destroyed) return reject(new Error('client went away during the upgrade'));
      // ws answers a malformed handshake itself (400) and never calls back: do not wait forever.
      socket.once('close', () => reject(new Error('client went away during the upgrade')));
      this.server.handleUpgrade(req, socket, head, (ws) => {
        this.router.track(ws, endpoint, req);
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

  /**
   * Stop accepting, finish in-flight batches and their acks, then close every socket with 1001.
   * The first shutdown hook (not beforeApplicationShutdown): the HTTP server is drained later and
   * would otherwise drop these sockets without a close frame.
   */
  async onModuleDestroy(): Promise<void> {
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
