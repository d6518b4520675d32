import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { Response } from 'express';
import { IdError } from '../redis/entry-id';
import { HTTP_STATUS, StreamError } from '../streams/stream-error';
import { StreamIdError } from '../streams/stream-id';

/** Redis errors that mean "the store is unavailable" rather than "your input is wrong". */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const msg = err.message;
  return (
    /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|max retries per request|Command timed out/i.test(
      msg,
    ) || /^(OOM|LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN)\b/.test(msg)
  );
}

function detailOf(body: unknown, fallback: string): unknown {
  if (typeof body === 'string') return body;
  if (body && typeof body === 'object') {
    const { message, detail } = body as { message?: unknown; detail?: unknown };
    if (detail !== undefined) return detail;
    if (Array.isArray(message)) return message.join('; ');
    if (typeof message === 'string') return message;
  }
  return fallback;
}

/**
 * Every HTTP error leaves as `{"detail": ...}` (the old servers' shape). Unknown errors are logged
 * with their cause and answered with a generic 500; a Redis outage is a 503, not a 500.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(err: unknown, host: ArgumentsHost): unknown {
    if (host.getType<string>() !== 'http') return err; // GraphQL formats its own errors
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    let status: number;
    let detail: unknown;
    if (err instanceof ThrottlerException) {
      status = HttpStatus.TOO_MANY_REQUESTS;
      detail = 'Too many attempts, try again in a minute';
    } else if (err instanceof HttpException) {
      status = err.getStatus();
      detail = detailOf(err.getResponse(), err.message);
    } else if (err instanceof StreamError) {
      status = HTTP_STATUS[err.code];
      detail = err.message;
    } else if (err instanceof IdError || err instanceof StreamIdError) {
      status = HttpStatus.BAD_REQUEST;
      detail = err.message;
    } else if (isRedisUnavailable(err)) {
      status = HttpStatus.SERVICE_UNAVAILABLE;
      detail = 'Storage unavailable, try again later';
    } else if ((err as { type?: string })?.type === 'entity.too.large') {
      status = HttpStatus.PAYLOAD_TOO_LARGE;
      detail = 'Request body too large';
    } else if ((err as { type?: string })?.type === 'entity.parse.failed') {
      status = HttpStatus.BAD_REQUEST;
      detail = 'Malformed request body';
    } else {
      status = HttpStatus.INTERNAL_SERVER_ERROR;
      detail = 'Internal server error';
      this.logger.error(`unhandled error: ${(err as Error)?.stack ?? String(err)}`);
    }
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    res.status(status).json({ detail });
  }
}
