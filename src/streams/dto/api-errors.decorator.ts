import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ErrorDto } from '../../auth/dto/token.dto';

const MEANING: Record<number, string> = {
  400: 'Bad input (ids, query values, body)',
  401: 'No or invalid bearer token',
  403: 'The token may not use this stream (or is not admin)',
  404: 'No such stream',
  409: 'Conflicts with what exists (a group of that name, a consumer with pending entries)',
  413: 'Upload larger than HTTP_MAX_BODY',
  415: 'Unsupported Content-Type',
  503: 'Redis is unavailable',
};

const EXAMPLE: Record<number, string> = {
  401: 'Not authenticated: a valid bearer token is required',
  503: 'Storage unavailable, try again later',
};

/**
 * Documents `{"detail": ...}` error answers of a route; each entry is a status, or a status and
 * an example detail. 401 and 503 apply to every protected route and are always added.
 */
export function ApiErrors(...errors: (number | [number, string])[]): MethodDecorator & ClassDecorator {
  const all: [number, string][] = errors.map((e) => (Array.isArray(e) ? e : [e, MEANING[e]]));
  for (const status of [401, 503]) if (!all.some(([s]) => s === status)) all.push([status, EXAMPLE[status]]);
  return applyDecorators(
    ApiExtraModels(ErrorDto),
    ...all.map(([status, example]) =>
      ApiResponse({
        status,
        description: MEANING[status] ?? 'Error',
        content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorDto) }, example: { detail: example } } },
      }),
    ),
  );
}
