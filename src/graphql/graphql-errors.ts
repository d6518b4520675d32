import { unwrapResolverError } from '@apollo/server/errors';
import { HttpException, HttpStatus, Logger } from '@nestjs/common';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { isRedisUnavailable } from '../common/http-error.filter';
import { IdError } from '../redis/entry-id';
import { StreamError, StreamErrorCode } from '../streams/stream-error';
import { StreamIdError } from '../streams/stream-id';

const logger = new Logger('GraphQL');

const STREAM_CODES: Record<StreamErrorCode, string> = {
  BAD_REQUEST: 'BAD_USER_INPUT',
  BAD_ID: 'BAD_USER_INPUT',
  BAD_STREAM_ID: 'BAD_USER_INPUT',
  TOO_LARGE: 'BAD_USER_INPUT',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
};

const HTTP_CODES: Partial<Record<number, string>> = {
  [HttpStatus.BAD_REQUEST]: 'BAD_USER_INPUT',
  [HttpStatus.UNAUTHORIZED]: 'UNAUTHENTICATED',
  [HttpStatus.FORBIDDEN]: 'FORBIDDEN',
  [HttpStatus.NOT_FOUND]: 'NOT_FOUND',
};

/** A resolver's error as the code and message a client may see; null leaves a GraphQL error as it is. */
export function classify(err: unknown): { code: string; message: string } | null {
  if (err instanceof GraphQLError) return null;
  if (err instanceof StreamError) return { code: STREAM_CODES[err.code], message: err.message };
  if (err instanceof IdError || err instanceof StreamIdError) return { code: 'BAD_USER_INPUT', message: err.message };
  if (err instanceof HttpException) {
    const code = HTTP_CODES[err.getStatus()];
    if (code) return { code, message: err.message };
  }
  if (isRedisUnavailable(err)) return { code: 'SERVICE_UNAVAILABLE', message: 'Storage unavailable, try again later' };
  logger.error(`unhandled error: ${(err as Error)?.stack ?? String(err)}`);
  return { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' };
}

/** Apollo's `formatError`: domain errors get their code, anything unexpected is masked and logged. */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original === error && error instanceof GraphQLError) return formatted;
  const mapped = classify(original);
  if (!mapped) return formatted;
  const { message, code } = mapped;
  return { message, locations: formatted.locations, path: formatted.path, extensions: { code } };
}

/**
 * The same mapping for errors sent over graphql-ws, which does not go through Apollo; an error
 * that is not a resolver's and has no code gets `fallbackCode`.
 */
export function toClientError(error: GraphQLError, fallbackCode?: string): GraphQLError {
  const mapped = error.originalError ? classify(error.originalError) : null;
  const code = mapped?.code ?? (error.extensions.code === undefined ? fallbackCode : undefined);
  if (!code) return error;
  return new GraphQLError(mapped?.message ?? error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { ...error.extensions, code },
  });
}
