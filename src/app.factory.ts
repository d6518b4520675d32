import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { Env, LOG_LEVELS, validateEnv } from './config/env.schema';
import type { Server } from 'node:http';
import { setupOpenApi } from './openapi';

/** Response headers that browsers may read (PROTOCOL §5). */
export const EXPOSED_HEADERS = ['x-last-entry-id', 'x-offsets', 'entry-offset'];

function logLevels(level: Env['LOG_LEVEL']): LogLevel[] {
  return LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
}

/**
 * Slowloris brakes: a client must finish its headers within HTTP_HEADERS_TIMEOUT_MS and its whole
 * request within HTTP_REQUEST_TIMEOUT_MS; idle kept-alive connections close after
 * HTTP_KEEPALIVE_TIMEOUT_MS. Node checks the first two on a timer, so the check runs at least as
 * often as the shortest of them (set before listen(), when the timer starts).
 */
function applyServerTimeouts(server: Server, env: Env): void {
  const request = env.HTTP_REQUEST_TIMEOUT_MS;
  // Node wants headersTimeout <= requestTimeout when both are on.
  const headers = request > 0 && env.HTTP_HEADERS_TIMEOUT_MS > request ? request : env.HTTP_HEADERS_TIMEOUT_MS;
  server.headersTimeout = headers;
  server.requestTimeout = request;
  server.keepAliveTimeout = env.HTTP_KEEPALIVE_TIMEOUT_MS;
  const active = [headers, request].filter((t) => t > 0);
  if (active.length) {
    const check = server as Server & { connectionsCheckingInterval: number };
    check.connectionsCheckingInterval = Math.max(250, Math.min(30_000, Math.floor(Math.min(...active) / 2)));
  }
}

/**
 * Builds the configured application (not yet listening). `main.ts` and the tests both come through
 * here, so what is tested is what runs.
 */
export async function createApp(
  source: Record<string, string | undefined> = process.env,
): Promise<NestExpressApplication> {
  const env = validateEnv(source);
  const logger = new ConsoleLogger({ json: env.LOG_FORMAT === 'json', logLevels: logLevels(env.LOG_LEVEL) });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(env), {
    logger,
    abortOnError: false,
  });
  app.enableShutdownHooks();
  app.disable('x-powered-by');
  const origins = env.CORS_ORIGINS.split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  if (origins.length) {
    app.enableCors({ origin: origins.includes('*') ? true : origins, exposedHeaders: EXPOSED_HEADERS, maxAge: 600 });
  }
  setupOpenApi(app);
  applyServerTimeouts(app.getHttpServer(), env);
  return app;
}
