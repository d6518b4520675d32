import { ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlContextType, GqlExecutionContext } from '@nestjs/graphql';
import { AuthGuard } from '@nestjs/passport';
import { AppConfig } from '../config/app-config';
import { IS_PUBLIC, PUBLIC_WHEN } from './public.decorator';

/** The global guard: every HTTP route and GraphQL operation needs a token unless `@Public()`. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
  ) {
    super();
  }

  override getRequest(context: ExecutionContext): unknown {
    if (context.getType<GqlContextType>() === 'graphql') {
      return GqlExecutionContext.create(context).getContext<{ req: unknown }>().req;
    }
    return context.switchToHttp().getRequest();
  }

  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const when = this.reflector.get<'METRICS_PUBLIC' | undefined>(PUBLIC_WHEN, context.getHandler());
    if (when && this.config.get(when)) return true;
    return super.canActivate(context) as Promise<boolean>;
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err || !user) throw new UnauthorizedException('Not authenticated: a valid bearer token is required');
    return user;
  }
}
