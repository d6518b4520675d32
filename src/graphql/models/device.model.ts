import { Field, ObjectType } from '@nestjs/graphql';

@ObjectType('Device', { description: 'A device of the registry; its streams are the keys `{id}:*`.' })
export class DeviceModel {
  @Field()
  id: string;
}
