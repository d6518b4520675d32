import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

const toBool = ({ value }: { value: unknown }): unknown => {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return value;
  const v = value.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return value;
};

const toInt = ({ value }: { value: unknown }): unknown => {
  if (value === undefined || value === '') return undefined;
  return typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * Every environment variable the service reads, with its default. `.env.example` documents the
 * same list; `validateEnv` refuses to boot with a message naming each bad variable.
 */
export class Env {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8000;

  @IsString()
  @MinLength(1)
  HOST = '127.0.0.1';

  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  @IsString()
  @MinLength(1)
  REDIS_DATA_DIR = './data';

  /** A Redis command (not a blocking read) unanswered this long fails with 1011/503; 0 = wait. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  REDIS_COMMAND_TIMEOUT_MS = 5000;

  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET?: string;

  @Matches(/^\d+(ms|s|m|h|d)?$/, { message: 'JWT_EXPIRES_IN must look like 3600, 90s, 30m, 12h or 7d' })
  JWT_EXPIRES_IN = '12h';

  @IsOptional()
  @IsString()
  JWT_AUDIENCE?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  AUTH_USERS_FILE?: string;

  /** POST /token attempts allowed per client address per minute (brute-force brake). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUTH_RATE_LIMIT = 20;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  AUTH_DEV_MODE?: boolean;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  STREAM_MAXLEN = 1000;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(2 ** 31 - 1)
  WS_MAX_PAYLOAD = 64 * 1024 * 1024;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  WS_MAX_CONNECTIONS = 10000;

  /** WebSocket data connections (push + pull) one user may hold open at once. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  WS_MAX_CONNECTIONS_PER_USER = 1000;

  @Transform(toInt)
  @IsInt()
  @Min(1000)
  WS_PING_MS = 30000;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  PULL_MAX_BUFFERED = 8 * 1024 * 1024;

  /** Bytes of one push socket's frames that may wait for Redis before the socket is read no further. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  PUSH_MAX_IN_FLIGHT = 4 * 1024 * 1024;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  HTTP_MAX_BODY = 64 * 1024 * 1024;

  /** Time a client has to send its complete request headers (slowloris brake); 0 = none. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  HTTP_HEADERS_TIMEOUT_MS = 10_000;

  /** Time a client has to send a complete request, body included; 0 = none. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  HTTP_REQUEST_TIMEOUT_MS = 300_000;

  /** Idle time before a kept-alive HTTP connection is closed. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  HTTP_KEEPALIVE_TIMEOUT_MS = 5_000;

  @IsString()
  CORS_ORIGINS = '';

  @Transform(toBool)
  @IsBoolean()
  DEVICE_PREFIXING = true;

  @Transform(toBool)
  @IsBoolean()
  METRICS_PUBLIC = false;

  /** GraphQL schema introspection; unset means on unless NODE_ENV=production. */
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  GRAPHQL_INTROSPECTION?: boolean;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevelName = 'log';

  @IsIn(['text', 'json'])
  LOG_FORMAT: 'text' | 'json' = 'text';
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

/** Validates and types the environment; throws one Error listing every bad variable. */
export function validateEnv(raw: Record<string, unknown>): Env {
  const env = plainToInstance(Env, raw, { exposeDefaultValues: true });
  const problems = validateSync(env, { skipMissingProperties: false }).map((e) => {
    const why = Object.values(e.constraints ?? {}).join('; ');
    return `${e.property}: ${why} (got ${JSON.stringify(e.value)})`;
  });
  if (env.NODE_ENV === 'production') {
    if (!env.JWT_SECRET) problems.push('JWT_SECRET: required when NODE_ENV=production');
    if (env.AUTH_DEV_MODE === true) problems.push('AUTH_DEV_MODE: may not be true when NODE_ENV=production');
  }
  if (problems.length) {
    throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  // PROTOCOL §2: unset means on only for a loopback-only service with no users file.
  if (env.AUTH_DEV_MODE === undefined) {
    env.AUTH_DEV_MODE = env.NODE_ENV !== 'production' && !env.AUTH_USERS_FILE && isLoopback(env.HOST);
  }
  return env;
}
