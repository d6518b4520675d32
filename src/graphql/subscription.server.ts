import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { GraphQLError, specifiedRules, validate } from 'graphql';
import type { Context } from 'graphql-ws';
import { Extra, useServer } from 'graphql-ws/use/ws';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { AuthUser } from '../auth/auth-user';
import { extractToken } from '../auth/token-extractor';
import { InvalidTokenError, TokenService } from '../auth/token.service';
import { UpgradeRefusal } from '../auth/ws-auth.service';
import { UpgradeRouter } from '../common/upgrade-router';
import { AppConfig } from '../config/app-config';
import { toClientError } from './graphql-errors';
import { graphqlIntrospection, wsValidationRules } from './validation';

// A type, not an interface: graphql-ws wants an index-signature-compatible record.
type Credentials = {
  user: AuthUser;
  token: string;
};

type WsContext = Context<Record<string, unknown> | undefined, Extra & Partial<Credentials>>;

/** graphql-ws close code for a connection that presented no valid token. */
const UNAUTHORIZED = 4401;
/** Operations one connection may have running at once (each subscription holds a reader). */
export const MAX_OPERATIONS = 100;
/** Client messages are queries and subscription requests: small. */
const MAX_MESSAGE = 1024 * 1024;

/**
 * GraphQL over WebSocket (`graphql-transport-ws`) at `/graphql`, on the shared upgrade router.
 * The token comes from `connectionParams.Authorization` ("Bearer <t>") or, on the upgrade, from
 * the Authorization header or `?token=`; an invalid token on the upgrade is refused with HTTP 401
 * before the socket is accepted, a connection_init without a valid token closes with 4401.
 * Operations then run through the same guard, resolvers and error codes as over HTTP.
 */
@Injectable()
export class SubscriptionServer implements OnModuleInit, OnModuleDestroy {
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE, perMessageDeflate: false });
  private readonly upgradeCredentials = new WeakMap<IncomingMessage, Credentials>();
  private dispose?: () => Promise<void>;
  private stopping = false;

  constructor(
    private readonly router: UpgradeRouter,
    private readonly tokens: TokenService,
    private readonly schemaHost: GraphQLSchemaHost,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const introspection = graphqlIntrospection(this.config);
    const rules = [...specifiedRules, ...wsValidationRules(introspection)];
    const disposable = useServer<Record<string, unknown> | undefined, Credentials>(
      {
        schema: () => this.schemaHost.schema,
        validate: (schema, document) => validate(schema, document, rules),
        onConnect: (ctx) => this.authenticate(ctx),
        onSubscribe: (ctx) => {
          // graphql-ws has already reserved this operation's slot: the count includes it.
          if (Object.keys(ctx.subscriptions).length <= MAX_OPERATIONS) return undefined;
          const message = `Too many operations on one connection (limit ${MAX_OPERATIONS})`;
          return [new GraphQLError(message, { extensions: { code: 'LIMIT_EXCEEDED' } })];
        },
        // The global guard reads the token from `req` like an HTTP request's.
        context: (ctx) => ({ req: { headers: { authorization: `Bearer ${ctx.extra.token}` }, user: ctx.extra.user } }),
        onNext: (_ctx, _id, _payload, _args, result) =>
          result.errors ? { ...result, errors: result.errors.map((e) => toClientError(e)) } : undefined,
        // graphql-ws reports validation errors here; Apollo would have coded them.
        onError: (_ctx, _id, _payload, errors) => errors.map((e) => toClientError(e, 'GRAPHQL_VALIDATION_FAILED')),
      },
      this.server,
      this.config.get('WS_PING_MS'),
    );
    this.dispose = () => disposable.dispose() as Promise<void>;
    this.router.register(
      'graphql',
      (pathname) => pathname === '/graphql',
      (req, socket, head) => this.upgrade(req, socket, head),
    );
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (this.stopping) throw new UpgradeRefusal(503, 'Server shutting down');
    const token = extractToken(req);
    if (token) {
      const credentials = this.verify(token);
      if (!credentials) throw new UpgradeRefusal(401, 'Invalid or expired token');
      this.upgradeCredentials.set(req, credentials);
    }
    await new Promise<void>((done) => {
      socket.once('close', () => done()); // ws answered a malformed upgrade itself
      this.server.handleUpgrade(req, socket, head, (ws) => {
        this.router.track(ws, 'graphql');
        this.server.emit('connection', ws, req);
        done();
      });
    });
  }

  /** graphql-ws `onConnect`: connectionParams first, else what the upgrade request carried. */
  private authenticate(ctx: WsContext): boolean {
    const params = ctx.connectionParams ?? {};
    const header = params.Authorization ?? params.authorization;
    let credentials = this.upgradeCredentials.get(ctx.extra.request);
    if (header !== undefined) {
      const token = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
      if (!token) return this.refuse(ctx, 'Authorization must be "Bearer <token>"');
      credentials = this.verify(token) ?? undefined;
      if (!credentials) return this.refuse(ctx, 'Invalid or expired token');
    }
    if (!credentials) return this.refuse(ctx, 'Not authenticated: a valid bearer token is required');
    ctx.extra.user = credentials.user;
    ctx.extra.token = credentials.token;
    return true;
  }

  /** The token's user, or null for an invalid or expired token. */
  private verify(token: string): Credentials | null {
    try {
      return { user: this.tokens.verify(token), token };
    } catch (err) {
      if (err instanceof InvalidTokenError) return null;
      throw err;
    }
  }

  /** Closes with 4401 before graphql-ws answers `false` with its 4403 (a second close is ignored). */
  private refuse(ctx: WsContext, reason: string): false {
    ctx.extra.socket.close(UNAUTHORIZED, reason);
    return false;
  }

  /**
   * Closes every socket with 1001 (their subscriptions end and release their readers). The first
   * shutdown hook: the HTTP drain comes later and would drop the sockets without a close frame.
   */
  async onModuleDestroy(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.dispose?.();
  }
}
