import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors } from '../streams/dto/api-errors.decorator';
import { AuthedRequest } from '../streams/dto/authed-request';
import { StreamKeys } from '../streams/stream-keys.service';
import { QueryParams } from '../streams/dto/query-params';
import { parseStreamPath } from '../streams/stream-id';
import { DEFAULT_HEARTBEAT_MS, streamPath } from './rest-query';
import { RETRY_MS, SSE_HEADERS } from './sse-format';
import { SseService } from './sse.service';

const EXAMPLE = 'retry: 1000\n\nid: 1675000000000-0\ndata: {"t": 21.5}\n\n: keep-alive\n\n';

/**
 * `GET /data/{stream_id}/events`: Server-Sent Events (PROTOCOL §5). Listed before the data
 * controller in the module, whose `GET /data/{*path}` would otherwise take `x/events`.
 */
@ApiTags('data')
@Controller('data')
export class EventsController {
  constructor(
    private readonly sse: SseService,
    private readonly keys: StreamKeys,
  ) {}

  @Get('*path/events')
  @ApiOperation({
    summary: 'Follow streams as Server-Sent Events',
    description:
      'One event per entry: `id:` is the entry id (several streams: every stream’s cursor joined by `+`, and ' +
      '`event:` names the stream), `data:` the payload as UTF-8 text (one `data:` line per line) or base64. ' +
      '`Last-Event-ID` (sent by a reconnecting EventSource) resumes after the last event received: nothing is ' +
      `lost or repeated. A comment line is sent after each \`heartbeat\` ms without data; \`retry: ${RETRY_MS}\` first.`,
  })
  @ApiParam({ name: 'path', description: 'Stream id or `a+b`', example: 'temperature' })
  @ApiQuery({
    name: 'last_entry_id',
    required: false,
    description:
      'Where to start when there is no `Last-Event-ID`: `$` (default), `0`, an id, a time; per stream with `+`',
  })
  @ApiQuery({
    name: 'count',
    required: false,
    description: 'Entries per stream per read (1-10000; default 100, or 1 with `latest`)',
  })
  @ApiQuery({ name: 'latest', required: false, description: 'Skip to the newest `count` entries whenever behind' })
  @ApiQuery({
    name: 'encoding',
    required: false,
    enum: ['utf8', 'base64'],
    description: 'Payload encoding (default utf8)',
  })
  @ApiQuery({
    name: 'heartbeat',
    required: false,
    description: `Keep-alive comment interval in ms (1000-60000, default ${DEFAULT_HEARTBEAT_MS})`,
  })
  @ApiQuery({ name: 'device_id', required: false, description: 'Device of the streams (default `default`)' })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id' })
  @ApiProduces(SSE_HEADERS['Content-Type'])
  @ApiOkResponse({
    description: 'An endless event stream',
    headers: {
      'Cache-Control': { schema: { type: 'string', example: SSE_HEADERS['Cache-Control'] } },
      'X-Accel-Buffering': { schema: { type: 'string', example: 'no' } },
    },
    content: { 'text/event-stream': { schema: { type: 'string' }, example: EXAMPLE } },
  })
  @ApiErrors([400, 'bad entry id or time "yesterday"'], [403, 'no read permission for stream temperature'])
  async events(@Req() req: AuthedRequest, @Res() res: Response, @Param('path') path: string[]): Promise<void> {
    const q = QueryParams.of(req.url, ['last_entry_id', 'count', 'latest', 'encoding', 'heartbeat', 'device_id']);
    const latest = q.flag('latest');
    const options = {
      lastEventId: req.get('last-event-id') || undefined,
      lastEntryId: q.text('last_entry_id'),
      count: q.count(latest ? 1 : 100),
      latest,
      encoding: q.oneOf('encoding', ['utf8', 'base64'] as const, 'utf8'),
      heartbeatMs: q.int('heartbeat', DEFAULT_HEARTBEAT_MS, 1000, 60_000),
    };
    const device = this.keys.device(q.text('device_id'));
    await this.sse.stream(req.user, device, parseStreamPath(streamPath(path), 'pull'), options, res);
  }
}
