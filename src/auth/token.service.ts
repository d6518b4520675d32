import { Injectable, Logger } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { createSecretKey, KeyObject, randomBytes } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { AuthUser, TokenClaims } from './auth-user';
import { UsersService } from './users.service';

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** `12h`, `30m`, `3600` (seconds) → seconds. */
export function expirySeconds(value: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value);
  if (!m) throw new Error(`bad expiry ${value}`);
  return Math.max(1, Math.floor(Number(m[1]) * UNIT_SECONDS[m[2] ?? 's']));
}

/** The signing key: JWT_SECRET, or a random one that dies with the process. */
export class JwtKey {
  /**
   * A KeyObject, not the string: given a string, jsonwebtoken first tries to parse it as a public
   * key on every verify (~0.5 ms each, measured in bench/), a KeyObject skips that (~12 µs).
   */
  readonly secret: KeyObject;
  readonly generated: boolean;

  constructor(config: AppConfig) {
    const secret = config.get('JWT_SECRET');
    this.generated = !secret;
    this.secret = createSecretKey(Buffer.from(secret ?? randomBytes(48).toString('base64url')));
  }
}

export class InvalidTokenError extends Error {}

/** Issues and verifies the service's tokens: HS256 only, `exp` always set and enforced. */
@Injectable()
export class TokenService {
  private readonly logger = new Logger(TokenService.name);
  readonly expiresIn: number;
  private readonly audience?: string;

  constructor(
    private readonly key: JwtKey,
    private readonly users: UsersService,
    config: AppConfig,
  ) {
    this.expiresIn = expirySeconds(config.get('JWT_EXPIRES_IN'));
    this.audience = config.get('JWT_AUDIENCE');
    if (key.generated) {
      this.logger.warn('JWT_SECRET is not set: using a random secret; every token dies with this process.');
    }
  }

  issue(user: AuthUser): string {
    const claims: TokenClaims = { sub: user.username };
    return jwt.sign(claims, this.key.secret, {
      algorithm: 'HS256',
      expiresIn: this.expiresIn,
      ...(this.audience ? { audience: this.audience } : {}),
    });
  }

  /** Verifies signature, algorithm, `exp`/`nbf` (and audience when configured). */
  verify(token: string): AuthUser {
    let claims: TokenClaims;
    try {
      claims = jwt.verify(token, this.key.secret, {
        algorithms: ['HS256'],
        ...(this.audience ? { audience: this.audience } : {}),
      }) as TokenClaims;
    } catch (err) {
      throw new InvalidTokenError((err as Error).message);
    }
    return this.userFor(claims);
  }

  /** The user named by already-verified claims. */
  userFor(claims: TokenClaims): AuthUser {
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') {
      throw new InvalidTokenError('token lacks sub or exp');
    }
    const user = this.users.resolve(claims.sub);
    if (!user) throw new InvalidTokenError('unknown user');
    return user;
  }
}
