import { ApiProperty } from '@nestjs/swagger';
import { idToIso } from '../../redis/entry-id';
import { StreamEntry } from '../../redis/redis-streams.service';
import { StreamDescription } from '../stream-catalog.service';

/** ISO-8601 time of an entry id; null for an explicit id beyond any representable date. */
export function isoTimeOf(id: string): string | null {
  try {
    return idToIso(id);
  } catch {
    return null;
  }
}

function entryJson(entry: StreamEntry | null): unknown {
  if (!entry) return null;
  try {
    return JSON.parse(entry.data.toString('utf8'));
  } catch {
    return null;
  }
}

/**
 * A stream as PROTOCOL §6 describes it (XINFO STREAM with the first and last entries broken into
 * id, time, base64 data, UTF-8 string and parsed JSON) plus its metadata. Same field names as
 * the GraphQL `Stream` type, so REST and GraphQL clients read one shape.
 */
export class StreamInfoDto {
  @ApiProperty({ example: 'default:cam1', description: 'Redis key (with the device prefix)' })
  id: string;

  @ApiProperty({ example: 'cam1', description: 'Stream id (without the device prefix)' })
  streamId: string;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, example: { format: 'jpeg', maxlen: 500 } })
  meta: Record<string, unknown> | null;

  @ApiProperty({ example: 120 }) length: number | null;
  @ApiProperty({ example: 4711, nullable: true }) entriesAdded: number | null;
  @ApiProperty({ example: 0 }) groups: number | null;
  @ApiProperty({ example: '1675000000000-0', nullable: true }) lastGeneratedId: string | null;
  @ApiProperty({ example: '0-0', nullable: true }) maxDeletedEntryId: string | null;
  @ApiProperty({ example: '1674999000000-0', nullable: true }) recordedFirstEntryId: string | null;
  @ApiProperty({ example: 1 }) radixTreeKeys: number | null;
  @ApiProperty({ example: 2 }) radixTreeNodes: number | null;

  @ApiProperty({ example: '1674999000000-0', nullable: true }) firstEntryId: string | null;
  @ApiProperty({ example: '2023-01-29T13:30:00.000Z', nullable: true }) firstEntryTime: string | null;
  @ApiProperty({ example: 'eyJ0IjogMjF9', nullable: true, description: 'base64' }) firstEntryData: string | null;
  @ApiProperty({ example: '{"t": 21}', nullable: true }) firstEntryString: string | null;
  @ApiProperty({ example: { t: 21 }, nullable: true, description: 'null when not JSON' }) firstEntryJson: unknown;

  @ApiProperty({ example: '1675000000000-0', nullable: true }) lastEntryId: string | null;
  @ApiProperty({ example: '2023-01-29T13:46:40.000Z', nullable: true }) lastEntryTime: string | null;
  @ApiProperty({ example: 'eyJ0IjogMjJ9', nullable: true, description: 'base64' }) lastEntryData: string | null;
  @ApiProperty({ example: '{"t": 22}', nullable: true }) lastEntryString: string | null;
  @ApiProperty({ example: { t: 22 }, nullable: true, description: 'null when not JSON' }) lastEntryJson: unknown;

  @ApiProperty({ example: null, nullable: true, description: '"no such key" for a stream with metadata only' })
  error: string | null;

  static from(d: StreamDescription, streamId: string): StreamInfoDto {
    const info = d.info;
    const first = info?.firstEntry ?? null;
    const last = info?.lastEntry ?? null;
    return {
      id: d.key,
      streamId,
      meta: d.meta,
      length: info?.length ?? null,
      entriesAdded: info?.entriesAdded ?? null,
      groups: info?.groups ?? null,
      lastGeneratedId: info?.lastGeneratedId ?? null,
      maxDeletedEntryId: info?.maxDeletedEntryId ?? null,
      recordedFirstEntryId: info?.recordedFirstEntryId ?? null,
      radixTreeKeys: info?.radixTreeKeys ?? null,
      radixTreeNodes: info?.radixTreeNodes ?? null,
      firstEntryId: first?.id ?? null,
      firstEntryTime: first && isoTimeOf(first.id),
      firstEntryData: first?.data.toString('base64') ?? null,
      firstEntryString: first?.data.toString('utf8') ?? null,
      firstEntryJson: entryJson(first),
      lastEntryId: last?.id ?? null,
      lastEntryTime: last && isoTimeOf(last.id),
      lastEntryData: last?.data.toString('base64') ?? null,
      lastEntryString: last?.data.toString('utf8') ?? null,
      lastEntryJson: entryJson(last),
      error: info ? null : 'no such key',
    };
  }
}
