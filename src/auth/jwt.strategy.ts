import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { IncomingMessage } from 'node:http';
import { Strategy } from 'passport-jwt';
import { AppConfig } from '../config/app-config';
import { AuthUser, TokenClaims } from './auth-user';
import { extractToken } from './token-extractor';
import { JwtKey, TokenService } from './token.service';

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(
    key: JwtKey,
    config: AppConfig,
    private readonly tokens: TokenService,
  ) {
    const audience = config.get('JWT_AUDIENCE');
    super({
      jwtFromRequest: (req: IncomingMessage) => extractToken(req),
      // A KeyObject (see JwtKey); jsonwebtoken takes it though passport-jwt's types say string | Buffer.
      secretOrKey: key.secret as unknown as Buffer,
      algorithms: ['HS256'],
      ignoreExpiration: false,
      ...(audience ? { audience } : {}),
    });
  }

  validate(claims: TokenClaims): AuthUser | false {
    try {
      return this.tokens.userFor(claims);
    } catch {
      return false;
    }
  }
}
