import { createParamDecorator, ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { AuthUser } from '../auth/auth-user';

/** The GraphQL context: `req` is what the global JWT guard authenticates and stamps `user` on. */
export interface GqlContext {
  req: { user?: AuthUser };
}

/** The caller of a GraphQL operation, as set by the global guard on the root field. */
export const CurrentUser = createParamDecorator((_: unknown, context: ExecutionContext): AuthUser => {
  const user = GqlExecutionContext.create(context).getContext<GqlContext>().req?.user;
  if (!user) throw new UnauthorizedException('Not authenticated: a valid bearer token is required');
  return user;
});
