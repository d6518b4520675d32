import { Field, Float, Int, ObjectType } from '@nestjs/graphql';
import { Base64Scalar, JSONScalar } from '../scalars';

@ObjectType('Stream', { description: 'A stream: XINFO STREAM broken into fields, plus its metadata.' })
export class StreamModel {
  @Field({ description: 'The id as listed: the Redis key at the top level, the stream id under a device.' })
  id: string;

  @Field({ description: 'The stream id without its device prefix.' })
  streamId: string;

  @Field(() => String, { nullable: true, description: 'The device the stream belongs to (null for system streams).' })
  deviceId: string | null;

  @Field({ description: 'The Redis key.' })
  key: string;

  @Field(() => JSONScalar, { description: 'User-defined metadata ({} when none is set).' })
  meta: Record<string, unknown>;

  @Field(() => Int)
  length: number;

  @Field(() => Float, { nullable: true, description: 'Entries ever added (Redis 7+).' })
  entriesAdded: number | null;

  @Field(() => Int, { description: 'Number of consumer groups.' })
  groups: number;

  @Field(() => String, { nullable: true })
  lastGeneratedId: string | null;

  @Field(() => String, { nullable: true })
  maxDeletedEntryId: string | null;

  @Field(() => String, { nullable: true })
  recordedFirstEntryId: string | null;

  @Field(() => Int)
  radixTreeKeys: number;

  @Field(() => Int)
  radixTreeNodes: number;

  @Field(() => String, { nullable: true })
  firstEntryId: string | null;

  @Field(() => String, { nullable: true, description: 'Time of the first entry, ISO-8601 UTC.' })
  firstEntryTime: string | null;

  @Field(() => Base64Scalar, { nullable: true, description: 'Payload of the first entry.' })
  firstEntryData: Buffer | null;

  @Field(() => String, { nullable: true, description: 'First payload as UTF-8 text (null if not UTF-8).' })
  firstEntryString: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'First payload parsed as JSON (null if not JSON).' })
  firstEntryJson: unknown;

  @Field(() => String, { nullable: true })
  lastEntryId: string | null;

  @Field(() => String, { nullable: true, description: 'Time of the last entry, ISO-8601 UTC.' })
  lastEntryTime: string | null;

  @Field(() => Base64Scalar, { nullable: true, description: 'Payload of the last entry.' })
  lastEntryData: Buffer | null;

  @Field(() => String, { nullable: true, description: 'Last payload as UTF-8 text (null if not UTF-8).' })
  lastEntryString: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'Last payload parsed as JSON (null if not JSON).' })
  lastEntryJson: unknown;

  @Field(() => String, { nullable: true, description: 'Why there is no stream info, e.g. "no such key".' })
  error: string | null;
}
