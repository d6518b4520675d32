import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlContextType, GqlExecutionContext } from '@nestjs/graphql';
import type { IncomingMessage } from 'node:http';
import { AppConfig } from '../config/app-config';
import { AuthUser } from './auth-user';
import { IS_PUBLIC, PUBLIC_WHEN } from './public.decorator';
import { extractToken } from './token-extractor';
import { InvalidTokenError, TokenService } from './token.service';

type AuthedRequest = IncomingMessage & { user?: AuthUser };

const NOT_AUTHENTICATED = 'Not authenticated: a valid bearer token is required';

/**
 * The global guard: every HTTP route and GraphQL operation needs a token unless `@Public()`.
 * Verifies the bearer token with TokenService (the same check as WebSocket upgrades) and sets
 * `req.user`.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
    private readonly tokens: TokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const when = this.reflector.get<'METRICS_PUBLIC' | undefined>(PUBLIC_WHEN, context.getHandler());
    if (when && this.config.get(when)) return true;
    const req = this.request(context);
    const token = req && extractToken(req);
    if (!token) throw new UnauthorizedException(NOT_AUTHENTICATED);
    try {
      req.user = this.tokens.verify(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw new UnauthorizedException(NOT_AUTHENTICATED);
      throw err;
    }
    return true;
  }

  private request(context: ExecutionContext): AuthedRequest | undefined {
    if (context.getType<GqlContextType>() === 'graphql') {
      return GqlExecutionContext.create(context).getContext<{ req?: AuthedRequest }>().req;
    }
    return context.switchToHttp().getRequest<AuthedRequest>();
  }
}
