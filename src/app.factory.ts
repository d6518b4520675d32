import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { Env, LOG_LEVELS, validateEnv } from './config/env.schema';
import { setupOpenApi } from './openapi';

/** Response headers that browsers may read (PROTOCOL §5). */
export const EXPOSED_HEADERS = ['x-last-entry-id', 'x-offsets', 'entry-offset'];

function logLevels(level: Env['LOG_LEVEL']): LogLevel[] {
  return LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
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
  return app;
}
