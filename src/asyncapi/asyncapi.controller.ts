import { Controller, Get, Header, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiErrors } from '../streams/dto/api-errors.decorator';
import { asyncApiDocument } from './asyncapi.document';

/**
 * `GET /asyncapi.json`: the WebSocket and SSE endpoints, which OpenAPI cannot describe. Behind the
 * token like every route but `/token` and `/health` (PROTOCOL §2); `?token=` works in a browser.
 */
@ApiTags('docs')
@Controller()
export class AsyncApiController {
  @Get('asyncapi.json')
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({ summary: 'AsyncAPI 3.0 document of WebSocket push/pull and Server-Sent Events' })
  @ApiOkResponse({ description: 'AsyncAPI document', schema: { type: 'object', example: { asyncapi: '3.0.0' } } })
  @ApiErrors()
  document(@Req() req: Request): object {
    return asyncApiDocument(req.get('host') ?? 'localhost:8000');
  }
}
