/** Domain errors of the stream services, mapped at each edge to an HTTP status or a close code. */
export type StreamErrorCode = 'BAD_REQUEST' | 'BAD_ID' | 'BAD_STREAM_ID' | 'FORBIDDEN' | 'NOT_FOUND' | 'TOO_LARGE';

export class StreamError extends Error {
  constructor(
    readonly code: StreamErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const HTTP_STATUS: Record<StreamErrorCode, number> = {
  BAD_REQUEST: 400,
  BAD_ID: 400,
  BAD_STREAM_ID: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TOO_LARGE: 413,
};
