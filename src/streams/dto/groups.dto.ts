import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, Min, ValidateBy } from 'class-validator';
import { isEntryId } from '../../redis/entry-id';

/** Group and consumer names: what a WebSocket group pull accepts too (PROTOCOL §8). */
export const GROUP_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
export const GROUP_NAME_RULE = '1-64 characters of A-Z a-z 0-9 _ . : -';
/** Ids per ack or claim request. */
export const MAX_IDS = 10000;

/** What is wrong with a list of entry ids to ack or claim, or null when nothing is. */
export function idListProblem(value: unknown): string | null {
  if (!Array.isArray(value) || value.length < 1 || value.length > MAX_IDS) {
    return `ids must be an array of 1 to ${MAX_IDS} entry ids`;
  }
  const bad = (value as unknown[]).find((id) => typeof id !== 'string' || !isEntryId(id));
  if (bad === undefined) return null;
  return `ids must be entry ids (ms-seq), got ${JSON.stringify(typeof bad === 'string' ? bad.slice(0, 40) : bad)}`;
}

/** One check and one message for an `ids` list (class-validator would give one per rule). */
function IsIdList(): PropertyDecorator {
  return ValidateBy({
    name: 'isIdList',
    validator: {
      validate: (value: unknown) => idListProblem(value) === null,
      defaultMessage: (args) => idListProblem(args?.value) ?? '',
    },
  });
}

const POSITION =
  '`$` (after the newest entry: only new entries), `0` (the whole history), an entry id (the entries after it), ' +
  'a millisecond time or an ISO-8601 time (the entries at or after it)';

/** A consumer of a group, from XINFO CONSUMERS. */
export class ConsumerInfoDto {
  @ApiProperty({ example: 'worker-1' })
  name: string;

  @ApiProperty({ example: 2, description: 'Entries delivered to it and not acknowledged' })
  pending: number;

  @ApiProperty({ example: 1500, description: 'ms since it last read or claimed' })
  idle_ms: number;

  @ApiProperty({
    example: 1500,
    nullable: true,
    description: 'ms since its last successful read or claim (Redis 7.2+; null before)',
  })
  inactive_ms: number | null;
}

/** A consumer group of a stream, from XINFO GROUPS and XINFO CONSUMERS. */
export class GroupInfoDto {
  @ApiProperty({ example: 'workers' })
  name: string;

  @ApiProperty({ type: [ConsumerInfoDto] })
  consumers: ConsumerInfoDto[];

  @ApiProperty({ example: 2, description: 'Entries delivered and not acknowledged, all consumers together' })
  pending: number;

  @ApiProperty({ example: '1675000000000-3', description: 'The last entry delivered to the group' })
  last_delivered_id: string;

  @ApiProperty({ example: 4, nullable: true, description: 'Entries the group has read (null when Redis cannot tell)' })
  entries_read: number | null;

  @ApiProperty({
    example: 6,
    nullable: true,
    description: 'Entries not yet delivered to the group (null when Redis cannot tell, e.g. after deletions)',
  })
  lag: number | null;
}

export class CreateGroupDto {
  @ApiProperty({ example: 'workers', description: GROUP_NAME_RULE })
  @Matches(GROUP_NAME, { message: `group must be ${GROUP_NAME_RULE}` })
  group: string;

  @ApiPropertyOptional({ example: '0', default: '$', description: `Where the group starts: ${POSITION}` })
  @IsOptional()
  @IsString()
  start_id?: string;
}

export class SetGroupIdDto {
  @ApiProperty({
    example: '2023-01-29T13:00:00Z',
    description: `The group's new last-delivered id: ${POSITION}. Pending entries stay pending.`,
  })
  @IsString()
  id: string;
}

export class PendingEntryDto {
  @ApiProperty({ example: '1675000000000-0' })
  id: string;

  @ApiProperty({ example: '2023-01-29T13:46:40.000Z', nullable: true, description: 'ISO-8601 UTC of the id' })
  time: string | null;

  @ApiProperty({ example: 'worker-1', description: 'The consumer it was last delivered to' })
  consumer: string;

  @ApiProperty({ example: 65000, description: 'ms since it was last delivered' })
  idle_ms: number;

  @ApiProperty({ example: 1, description: 'How many times it was delivered' })
  deliveries: number;
}

export class AckDto {
  @ApiProperty({
    type: [String],
    example: ['1675000000000-0', '1675000000000-1'],
    description: `Entry ids (\`ms-seq\`), 1 to ${MAX_IDS}`,
  })
  @IsIdList()
  ids: string[];
}

export class AckResultDto {
  @ApiProperty({ example: 1, description: 'Ids that were pending and are acknowledged now' })
  acked: number;

  @ApiProperty({
    type: [String],
    example: ['1675000000000-1'],
    description: 'Ids that were not pending in the group (never delivered, or acknowledged before): nothing done',
  })
  not_pending: string[];
}

export class ClaimDto {
  @ApiProperty({ example: 'worker-2', description: `The consumer that takes the entries (${GROUP_NAME_RULE})` })
  @Matches(GROUP_NAME, { message: `consumer must be ${GROUP_NAME_RULE}` })
  consumer: string;

  @ApiProperty({ type: [String], example: ['1675000000000-0'], description: `Pending entry ids, 1 to ${MAX_IDS}` })
  @IsIdList()
  ids: string[];

  @ApiPropertyOptional({
    example: 60000,
    default: 0,
    description: 'Only entries idle at least this long are claimed (so that a live consumer keeps its own)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2_147_483_647)
  min_idle_ms?: number;
}

export class DeletedConsumerDto {
  @ApiProperty({ example: 'worker-1' })
  consumer: string;

  @ApiProperty({
    example: 0,
    description: 'Pending entries it still had: with force=true they leave the pending list and are never redelivered',
  })
  dropped_pending: number;
}
