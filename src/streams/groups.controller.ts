import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { RangeEntryDto } from '../data-gateway/dto/range-entry.dto';
import { ApiErrors } from './dto/api-errors.decorator';
import { AuthedRequest } from './dto/authed-request';
import {
  AckDto,
  AckResultDto,
  ClaimDto,
  CreateGroupDto,
  DeletedConsumerDto,
  GROUP_NAME_RULE,
  GroupInfoDto,
  PendingEntryDto,
  SetGroupIdDto,
} from './dto/groups.dto';
import { QueryParams } from './dto/query-params';
import { GroupAdmin } from './group-admin.service';
import { StreamKeys } from './stream-keys.service';

const SID = {
  name: 'stream_id',
  description: 'Stream id; a `/` inside it is sent as `%2F` (`site1%2Fcam`)',
  example: 'jobs',
};
const GROUP = { name: 'group', description: `Consumer group (${GROUP_NAME_RULE})`, example: 'workers' };
const DEVICE = { name: 'device_id', required: false, description: 'Device (default `default`)' };
const NO_GROUP: [number, string] = [404, 'no consumer group workers on stream jobs'];
const FORBIDDEN: [number, string] = [403, 'no read permission for stream jobs'];

/**
 * Consumer groups over REST (PROTOCOL §8), beside the WebSocket group pull: inspect and manage a
 * stream's groups, their pending entries and consumers. The logic is GroupAdmin's.
 */
@ApiTags('consumer groups')
@Controller('streams/:stream_id/groups')
export class GroupsController {
  constructor(
    private readonly groups: GroupAdmin,
    private readonly keys: StreamKeys,
  ) {}

  @Get()
  @ApiOperation({
    summary: "A stream's consumer groups",
    description:
      'XINFO GROUPS and XINFO CONSUMERS: each group (sorted by name) with its consumers (pending, idle), its ' +
      'pending count, last delivered id, entries read and lag. Needs read permission on the stream.',
  })
  @ApiParam(SID)
  @ApiQuery(DEVICE)
  @ApiOkResponse({ type: GroupInfoDto, isArray: true })
  @ApiErrors([400, 'bad stream id "a..b"'], FORBIDDEN, [404, 'no stream jobs'])
  async list(@Req() req: AuthedRequest, @Param('stream_id') streamId: string): Promise<GroupInfoDto[]> {
    return this.groups.list(req.user, this.device(req), streamId);
  }

  @Post()
  @ApiOperation({
    summary: 'Create a consumer group',
    description:
      'XGROUP CREATE with MKSTREAM: a group may be created before its stream has entries. `start_id` says ' +
      'where the group starts (default `$`: only entries added from now on). Needs read permission on the stream.',
  })
  @ApiParam(SID)
  @ApiQuery(DEVICE)
  @ApiBody({ type: CreateGroupDto, examples: { history: { value: { group: 'workers', start_id: '0' } } } })
  @ApiCreatedResponse({ type: GroupInfoDto, description: 'The new group' })
  @ApiErrors(
    [400, 'start_id: bad entry id or time "yesterday"'],
    FORBIDDEN,
    [404, 'no stream jobs'],
    [409, 'consumer group workers already exists on stream jobs'],
  )
  async create(
    @Req() req: AuthedRequest,
    @Param('stream_id') streamId: string,
    @Body() body: CreateGroupDto,
  ): Promise<GroupInfoDto> {
    return this.groups.create(req.user, this.device(req), streamId, body.group, body.start_id);
  }

  @Delete(':group')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a consumer group (admin only)',
    description: 'XGROUP DESTROY: the group, its consumers and its pending list. The entries stay in the stream.',
  })
  @ApiParam(SID)
  @ApiParam(GROUP)
  @ApiQuery(DEVICE)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(
    [400, `group must be ${GROUP_NAME_RULE}`],
    [403, 'deleting a consumer group needs the admin role'],
    NO_GROUP,
  )
  async destroy(
    @Req() req: AuthedRequest,
    @Param('stream_id') streamId: string,
    @Param('group') group: string,
  ): Promise<void> {
    await this.groups.destroy(req.user, this.device(req), streamId, group);
  }

  @Put(':group')
  @ApiOperation({
    summary: "Move a group's last-delivered id",
    description:
      'XGROUP SETID: the group goes on after `id` (rewind to replay history, or skip ahead). Pending entries stay ' +
      'pending. Needs read permission on the stream.',
  })
  @ApiParam(SID)
  @ApiParam(GROUP)
  @ApiQuery(DEVICE)
  @ApiBody({ type: SetGroupIdDto, examples: { rewind: { value: { id: '0' } }, skip: { value: { id: '$' } } } })
  @ApiOkResponse({ type: GroupInfoDto, description: 'The group afterwards' })
  @ApiErrors([400, 'id: bad entry id or time "1-2-3"'], FORBIDDEN, NO_GROUP)
  async setId(
    @Req() req: AuthedRequest,
    @Param('stream_id') streamId: string,
    @Param('group') group: string,
    @Body() body: SetGroupIdDto,
  ): Promise<GroupInfoDto> {
    return this.groups.setId(req.user, this.device(req), streamId, group, body.id);
  }

  @Get(':group/pending')
  @ApiOperation({
    summary: "A group's pending entries",
    description:
      'XPENDING: entries delivered and not acknowledged, oldest first, with their consumer, idle time and delivery ' +
      'count. Needs read permission on the stream.',
  })
  @ApiParam(SID)
  @ApiParam(GROUP)
  @ApiQuery({
    name: 'idle_ms',
    required: false,
    description: 'Only entries idle at least this long (ms)',
    example: 60000,
  })
  @ApiQuery({ name: 'count', required: false, description: 'At most this many (1-10000, default 100)', example: 100 })
  @ApiQuery({ name: 'consumer', required: false, description: 'Only this consumer’s entries', example: 'worker-1' })
  @ApiQuery(DEVICE)
  @ApiOkResponse({ type: PendingEntryDto, isArray: true })
  @ApiErrors([400, 'idle_ms must be an integer from 0 to 999999999, got "soon"'], FORBIDDEN, NO_GROUP)
  async pending(
    @Req() req: AuthedRequest,
    @Param('stream_id') streamId: string,
    @Param('group') group: string,
  ): Promise<PendingEntryDto[]> {
    const q = QueryParams.of(req.url, ['device_id', 'idle_ms', 'count', 'consumer']);
    return this.groups.pending(req.user, this.keys.device(q.text('device_id')), streamId, group, {
      idleMs: q.int('idle_ms', 0, 0, 999_999_999),
      count: q.count(100),
      consumer: q.text('consumer'),
    });
  }

  @Post(':group/ack')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Acknowledge entries',
    description:
      'XACK: the entries leave the pending list. Ids that were not pending (never delivered, acknowledged ' +
      'before, or of another stream) are listed in `not_pending` and nothing is done for them. Needs read ' +
      'permission on the stream.',
  })
  @ApiParam(SID)
  @ApiParam(GROUP)
  @ApiQuery(DEVICE)
  @ApiBody({ type: AckDto })
  @ApiOkResponse({ type: AckResultDto })
  @ApiErrors([400, 'ids must be entry ids (ms-seq), got "yesterday"'], FORBIDDEN, NO_GROUP)
  async ack(
    @Req() req: AuthedRequest,
    @Param('stream_id') streamId: string,
    @Param('group') group: string,
    @Body() body: AckDto,
  ): Promise<AckResultDto> {
    return this.groups.ack(req.user, this.device(req), streamId, group, body.ids);
  }

  @Post(':group/claim')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Claim pending entries for a consumer',
    description:
      'XCLAIM: the given pending entries idle at least `min_idle_ms` become `consumer`’s (created when new) and ' +
      'count one more delivery; they are returned with their payloads. Ids that are not pending or not idle ' +
      'enough are left alone and not returned; entries deleted since they were delivered leave the pending list. ' +
      'Needs read permission on the stream.',
  })
  @ApiParam(SID)
  @ApiParam(GROUP)
  @ApiQuery(DEVICE)
  @ApiBody({ type: ClaimDto })
  @ApiOkResponse({ type: RangeEntryDto, isArray: true, description: 'The claimed entries, payloads in base64' })
  @ApiErrors([400, 'min_idle_ms must not be less than 0'], FORBIDDEN, NO_GROUP)
  async claim(
    @Req() req: AuthedRequest,
    @Param('stream_id') streamId: string,
    @Param('group') group: string,
    @Body() body: ClaimDto,
  ): Promise<RangeEntryDto[]> {
    return this.groups.claim(req.user, this.device(req), streamId, group, {
      consumer: body.consumer,
      ids: body.ids,
      minIdleMs: body.min_idle_ms ?? 0,
    });
  }

  @Delete(':group/consumers/:consumer')
  @ApiOperation({
    summary: 'Delete a consumer of a group',
    description:
      'XGROUP DELCONSUMER. A consumer that still has pending entries is refused with 409 unless `force=true`: ' +
      'its pending entries would leave the pending list and never be delivered again. Needs read permission ' +
      'on the stream.',
  })
  @ApiParam(SID)
  @ApiParam(GROUP)
  @ApiParam({ name: 'consumer', description: `Consumer (${GROUP_NAME_RULE})`, example: 'worker-1' })
  @ApiQuery({ name: 'force', required: false, description: 'Delete even with pending entries', example: 'false' })
  @ApiQuery(DEVICE)
  @ApiOkResponse({ type: DeletedConsumerDto })
  @ApiErrors(
    [400, `consumer must be ${GROUP_NAME_RULE}`],
    FORBIDDEN,
    [404, 'no consumer worker-9 in group workers'],
    [409, 'consumer worker-1 still has 2 pending entries: claim or acknowledge them first, or delete with force=true'],
  )
  async deleteConsumer(
    @Req() req: AuthedRequest,
    @Param('stream_id') streamId: string,
    @Param('group') group: string,
    @Param('consumer') consumer: string,
  ): Promise<DeletedConsumerDto> {
    const q = QueryParams.of(req.url, ['device_id', 'force']);
    const device = this.keys.device(q.text('device_id'));
    return this.groups.deleteConsumer(req.user, device, streamId, group, consumer, q.flag('force'));
  }

  /** `device_id` of a route that takes no other query parameter. */
  private device(req: AuthedRequest): string {
    return this.keys.device(QueryParams.of(req.url, ['device_id']).text('device_id'));
  }
}
