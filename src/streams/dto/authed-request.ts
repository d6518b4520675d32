import type { Request } from 'express';
import { AuthUser } from '../../auth/auth-user';

/** An HTTP request that passed the global JWT guard: `user` is the caller. */
export type AuthedRequest = Request & { user: AuthUser };
