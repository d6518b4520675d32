import { Field, ObjectType } from '@nestjs/graphql';
import { Base64Scalar, JSONScalar } from '../scalars';

@ObjectType('DataEntry', { description: 'One stream entry delivered by the `data` subscription.' })
export class DataEntryModel {
  @Field({ description: 'The stream id without its device prefix.' })
  streamId: string;

  @Field({ description: 'The entry id, `<ms>-<seq>`.' })
  id: string;

  @Field(() => String, { nullable: true, description: 'The entry time, ISO-8601 UTC.' })
  time: string | null;

  @Field(() => Base64Scalar)
  data: Buffer;

  @Field(() => String, { nullable: true, description: 'The payload as UTF-8 text (null if not UTF-8).' })
  string: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'The payload parsed as JSON (null if not JSON).' })
  json: unknown;
}
