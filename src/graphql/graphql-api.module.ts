import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module';
import { StreamsModule } from '../streams/streams.module';

/** GraphQL schema, resolvers and subscriptions. */
@Module({ imports: [StreamsModule, DevicesModule] })
export class GraphqlApiModule {}
