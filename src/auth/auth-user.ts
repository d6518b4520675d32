/** The caller of a request, resolved from a verified token. */
export interface AuthUser {
  username: string;
  read: RegExp[];
  write: RegExp[];
  admin: boolean;
  /** True for a development-mode identity (username == password). */
  dev: boolean;
}

/** Claims the service puts in its tokens (HS256). Permissions are looked up, not trusted. */
export interface TokenClaims {
  sub: string;
  iat?: number;
  exp?: number;
}
