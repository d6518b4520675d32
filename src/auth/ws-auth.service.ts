import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AuthUser } from './auth-user';
import { extractToken } from './token-extractor';
import { InvalidTokenError, TokenService } from './token.service';

/** An upgrade refused before the WebSocket is accepted: written as a plain HTTP answer. */
export class UpgradeRefusal extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 429 | 503,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const REASONS: Record<UpgradeRefusal['status'], string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** Authenticates WebSocket upgrades with the same tokens as HTTP (global guards do not run there). */
@Injectable()
export class WsAuthService {
  constructor(private readonly tokens: TokenService) {}

  authenticate(req: IncomingMessage): AuthUser {
    const token = extractToken(req);
    if (!token) throw new UpgradeRefusal(401, 'Not authenticated: a valid bearer token is required');
    try {
      return this.tokens.verify(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw new UpgradeRefusal(401, 'Invalid or expired token');
      throw err;
    }
  }

  /** Answers the upgrade request with an HTTP error and closes the socket; no frame is exchanged. */
  static refuse(socket: Duplex, refusal: UpgradeRefusal): void {
    const body = JSON.stringify({ detail: refusal.detail });
    const headers = [
      `HTTP/1.1 ${refusal.status} ${REASONS[refusal.status]}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      ...(refusal.status === 401 ? ['WWW-Authenticate: Bearer'] : []),
    ];
    if (socket.writable) socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
    socket.destroy();
  }
}
