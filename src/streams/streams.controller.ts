import { Body, Controller, Delete, Get, HttpCode, Param, Put, Req } from '@nestjs/common';
import {
  ApiBody,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { ApiErrors } from './dto/api-errors.decorator';
import { AuthedRequest } from './dto/authed-request';
import { QueryParams } from './dto/query-params';
import { StreamInfoDto } from './dto/stream-info.dto';
import { StreamKeys } from './stream-keys.service';
import { StreamManager } from './stream-manager.service';
import { StreamMeta } from './stream-meta.service';

const SID = {
  name: 'stream_id',
  description: 'Stream id; a `/` inside it is sent as `%2F` (`site1%2Fcam`)',
  example: 'cam1',
};
const DEVICE = { name: 'device_id', required: false, description: 'Device (default `default`)' };

/** REST stream management (PROTOCOL §5): listings, descriptions, metadata, deletion. */
@ApiTags('streams')
@ApiExtraModels(StreamInfoDto)
@Controller('streams')
export class StreamsController {
  constructor(
    private readonly manager: StreamManager,
    private readonly keys: StreamKeys,
  ) {}

  @Get()
  @ApiOperation({
    summary: "A device's streams that the token may read",
    description:
      'Stream ids (without the device prefix), sorted; with `info=true` each stream described as `GET /streams/{id}`.',
  })
  @ApiQuery(DEVICE)
  @ApiQuery({ name: 'info', required: false, description: 'Describe every stream (XINFO + metadata)', example: 'true' })
  @ApiOkResponse({
    description: 'Ids, or descriptions with `info=true`',
    schema: {
      oneOf: [
        { type: 'array', items: { type: 'string' }, example: ['cam1', 'imu'] },
        { type: 'array', items: { $ref: getSchemaPath(StreamInfoDto) } },
      ],
    },
  })
  @ApiErrors([400, 'invalid device_id "a b"'])
  async list(@Req() req: AuthedRequest): Promise<string[] | StreamInfoDto[]> {
    const q = QueryParams.of(req.url, ['device_id', 'info']);
    const device = this.keys.device(q.text('device_id'));
    return q.flag('info') ? this.manager.list(req.user, device) : this.manager.ids(req.user, device);
  }

  @Get(':stream_id')
  @ApiOperation({
    summary: 'Describe a stream',
    description: 'XINFO STREAM with the first and last entries broken out, and the metadata (PROTOCOL §6 names).',
  })
  @ApiParam(SID)
  @ApiQuery(DEVICE)
  @ApiOkResponse({ type: StreamInfoDto })
  @ApiErrors([400, 'bad stream id "a..b"'], 403, [404, 'no stream cam9'])
  async describe(@Req() req: AuthedRequest, @Param('stream_id') streamId: string): Promise<StreamInfoDto> {
    return this.manager.describe(req.user, this.device(req), streamId);
  }

  @Put(':stream_id')
  @ApiOperation({
    summary: "Set a stream's metadata",
    description:
      'A JSON object, merged into the existing metadata (top-level keys), or replacing it with `override=true`. ' +
      '`maxlen` (MAXLEN ~, 0 = keep all) and `max_age_ms` (MINID ~) set the retention applied by the next writes ' +
      'and the periodic trim sweep. Needs write permission on the stream.',
  })
  @ApiParam(SID)
  @ApiQuery(DEVICE)
  @ApiQuery({ name: 'override', required: false, description: 'Replace instead of merge', example: 'false' })
  @ApiBody({
    schema: {
      type: 'object',
      additionalProperties: true,
      example: { format: 'jpeg', maxlen: 500, max_age_ms: 3600000 },
    },
  })
  @ApiOkResponse({
    description: 'The metadata now stored',
    schema: {
      type: 'object',
      additionalProperties: true,
      example: { format: 'jpeg', maxlen: 500, max_age_ms: 3600000 },
    },
  })
  @ApiErrors([400, 'maxlen must be a non-negative integer (0 = no limit) or null'], 403)
  async update(
    @Req() req: AuthedRequest,
    @Param('stream_id') streamId: string,
    @Body() body: unknown,
  ): Promise<StreamMeta> {
    const q = QueryParams.of(req.url, ['device_id', 'override']);
    const device = this.keys.device(q.text('device_id'));
    return this.manager.updateMeta(req.user, device, streamId, body, q.flag('override'));
  }

  @Delete(':stream_id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a stream: its data and its metadata (admin only)' })
  @ApiParam(SID)
  @ApiQuery(DEVICE)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors([403, 'deleting a stream needs the admin role'], [404, 'no stream cam9'])
  async remove(@Req() req: AuthedRequest, @Param('stream_id') streamId: string): Promise<void> {
    await this.manager.delete(req.user, this.device(req), streamId);
  }

  /** `device_id` of a route that takes no other query parameter. */
  private device(req: AuthedRequest): string {
    return this.keys.device(QueryParams.of(req.url, ['device_id']).text('device_id'));
  }
}
