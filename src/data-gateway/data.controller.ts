import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors } from '../streams/dto/api-errors.decorator';
import { AuthedRequest } from '../streams/dto/authed-request';
import { StreamError } from '../streams/stream-error';
import { StreamKeys } from '../streams/stream-keys.service';
import { RangeEntryDto } from './dto/range-entry.dto';
import { EntriesReply, RestDataService } from './rest-data.service';
import { QueryParams } from '../streams/dto/query-params';
import { DEFAULT_BLOCK_MS, MAX_BLOCK_MS, namedStreams, streamPath } from './rest-query';
import { RequestLifetimes } from './request-lifetimes.service';

const STREAM_PATH = {
  name: 'path',
  description:
    'Stream id, or several joined by `+` (`cam+mic`). A `/` inside an id may be sent as is ' +
    '(`site1/cam`) or as `%2F`; an id whose last segment is `range`, `events`, `push` or `pull` must use `%2F`.',
  example: 'cam1',
};
const DEVICE = { name: 'device_id', required: false, description: 'Device of the streams (default `default`)' };
const CURSOR = {
  'x-last-entry-id': {
    description: 'The cursor to send as `last_entry_id` next time (one per stream, joined by `+`)',
    schema: { type: 'string', example: '1675000000000-0' },
  },
};
const OFFSETS = {
  'x-offsets': {
    description: '`[[stream_id, entry_id, start_offset], ...]`: where each payload starts in the body',
    schema: { type: 'string', example: '[["cam1","1675000000000-0",0],["cam1","1675000000001-0",5120]]' },
  },
  'entry-offset': { description: 'Same as `x-offsets` (PTG name)', schema: { type: 'string' } },
};
function sendEntries(res: Response, reply: EntriesReply): void {
  res.set({ 'x-offsets': reply.offsets, 'entry-offset': reply.offsets, 'Cache-Control': 'no-store' });
  if (reply.cursor) res.set('x-last-entry-id', reply.cursor);
  // `end`, not `send`: no ETag hashed over a body that can be megabytes (and is never cached).
  res.status(200).type('application/octet-stream').set('Content-Length', String(reply.body.length)).end(reply.body);
}

/** REST `/data/{stream_id}` (PROTOCOL §5): long-poll reads, uploads and range reads. */
@ApiTags('data')
@Controller('data')
export class DataController {
  constructor(
    private readonly data: RestDataService,
    private readonly keys: StreamKeys,
    private readonly lifetimes: RequestLifetimes,
  ) {}

  // Declared before `GET {*path}`, which would take `x/range` for a stream id.
  @Get('*path/range')
  @ApiOperation({
    summary: 'Entries between two ids or times (inclusive)',
    description:
      'JSON `[{id, time, data(base64)}]` by default; with `Accept: application/octet-stream` the payloads ' +
      'back to back with `x-offsets`, as `GET /data/{stream_id}`. Page with `start=(<x-last-entry-id>` (exclusive).',
  })
  @ApiParam({ ...STREAM_PATH, description: 'One stream id' })
  @ApiQuery({
    name: 'start',
    required: false,
    description: 'Id, ms time or ISO-8601 time; `(id` excludes; default `-`',
    example: '2023-01-29T13:00:00Z',
  })
  @ApiQuery({
    name: 'end',
    required: false,
    description: 'Id, ms time or ISO-8601 time; default `+`',
    example: '1675000000000',
  })
  @ApiQuery({ name: 'count', required: false, description: 'At most this many entries (1-10000, default 1000)' })
  @ApiQuery(DEVICE)
  @ApiProduces('application/json', 'application/octet-stream')
  @ApiOkResponse({ type: RangeEntryDto, isArray: true, headers: { ...CURSOR, ...OFFSETS } })
  @ApiErrors([400, 'bad range bound "yesterday"'], 403, [404, 'no stream cam9'])
  async range(@Req() req: AuthedRequest, @Res() res: Response, @Param('path') path: string[]): Promise<void> {
    const q = QueryParams.of(req.url, ['start', 'end', 'count', 'device_id']);
    const ids = namedStreams(path);
    if (ids.length !== 1) throw new StreamError('BAD_REQUEST', 'a range read takes one stream');
    const bounds = { start: q.text('start'), end: q.text('end'), count: q.count(1000) };
    const reply = await this.data.range(req.user, this.keys.device(q.text('device_id')), ids[0], bounds);
    res.vary('Accept');
    if (req.accepts(['application/json', 'application/octet-stream']) === 'application/octet-stream') {
      return sendEntries(res, reply);
    }
    if (reply.cursor) res.set('x-last-entry-id', reply.cursor);
    res.status(200).json(RestDataService.asJson(reply.entries));
  }

  // `{*path}` (optional) rather than `*path`: `/data/` then reaches the guard and answers 401/400.
  @Get('{*path}')
  @ApiOperation({
    summary: 'Read entries after a cursor (long-poll)',
    description:
      'The payloads back to back; `x-offsets` says where each starts and `x-last-entry-id` is the cursor for ' +
      'the next call. Waits up to `block` ms for the first entry, then `204` with `x-last-entry-id`. ' +
      'Large batches are cut so that `x-offsets` stays under 6000 characters; the cursor says where.',
  })
  @ApiParam(STREAM_PATH)
  @ApiQuery({
    name: 'last_entry_id',
    required: false,
    description:
      'Entries after this: `$` (default, only new ones), `0` (from the start), an id, a ms time or ISO-8601 time ' +
      '(entries at or after it), `*` (the newest `count`); one for all streams or one per stream joined by `+` (`%2B`)',
    example: '0',
  })
  @ApiQuery({
    name: 'count',
    required: false,
    description: 'At most this many entries per stream (1-10000, default 1)',
  })
  @ApiQuery({
    name: 'latest',
    required: false,
    description: 'Only the newest `count` entries after the cursor',
    example: 'true',
  })
  @ApiQuery({
    name: 'block',
    required: false,
    description: `Wait up to this many ms (0-${MAX_BLOCK_MS}, default ${DEFAULT_BLOCK_MS})`,
  })
  @ApiQuery(DEVICE)
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({
    description: 'Payloads back to back',
    headers: { ...CURSOR, ...OFFSETS },
    content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  })
  @ApiNoContentResponse({ description: 'Nothing new within `block` ms', headers: CURSOR })
  @ApiErrors([400, 'count must be an integer from 1 to 10000'], [403, 'no read permission for stream cam1'])
  async read(@Req() req: AuthedRequest, @Res() res: Response, @Param('path') path: string[] = []): Promise<void> {
    const q = QueryParams.of(req.url, ['last_entry_id', 'count', 'latest', 'block', 'device_id']);
    const options = {
      lastEntryId: q.text('last_entry_id'),
      count: q.count(1),
      latest: q.flag('latest'),
      blockMs: q.int('block', DEFAULT_BLOCK_MS, 0, MAX_BLOCK_MS),
    };
    const device = this.keys.device(q.text('device_id'));
    const ids = namedStreams(path);
    const lifetime = this.lifetimes.track(res);
    try {
      const reply = await this.data.read(req.user, device, ids, options, lifetime.signal);
      if (reply.entries.length > 0) return sendEntries(res, reply);
      res.set({ 'x-last-entry-id': reply.cursor, 'Cache-Control': 'no-store' }).status(204).end();
    } finally {
      lifetime.release();
    }
  }

  @Post('{*path}')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Store entries (atomic)',
    description:
      'multipart/form-data: every part named `entries` is one entry, in order (on a `*` path the part’s filename ' +
      'names its stream; on `a+b` it names one of them). application/octet-stream: the body is one entry. ' +
      'All entries are stored, or none. Answers the new ids.',
  })
  @ApiParam({ ...STREAM_PATH, description: 'Stream id, `a+b`, or `*` (filenames name the streams)' })
  @ApiQuery(DEVICE)
  @ApiConsumes('multipart/form-data', 'application/octet-stream')
  @ApiBody({
    schema: {
      type: 'object',
      properties: { entries: { type: 'array', items: { type: 'string', format: 'binary' } } },
    },
  })
  @ApiHeader({ name: 'Content-Type', description: 'multipart/form-data or application/octet-stream', required: true })
  @ApiCreatedResponse({
    description: 'The new entry ids, in upload order',
    schema: { type: 'array', items: { type: 'string' }, example: ['1675000000000-0', '1675000000000-1'] },
  })
  @ApiErrors(
    [400, 'unexpected part "file": name every part entries'],
    [403, 'no write permission for stream cam1'],
    [413, 'upload larger than 67108864 bytes (HTTP_MAX_BODY)'],
    [415, 'send multipart/form-data (parts named entries) or application/octet-stream'],
  )
  async upload(@Req() req: AuthedRequest, @Param('path') path: string[] = []): Promise<string[]> {
    const q = QueryParams.of(req.url, ['device_id']);
    return this.data.upload(req.user, this.keys.device(q.text('device_id')), streamPath(path), req, req.headers);
  }
}
