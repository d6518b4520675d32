import { Module } from '@nestjs/common';
import { StreamsModule } from '../streams/streams.module';

/** WebSocket push/pull, REST /data and Server-Sent Events. */
@Module({
  imports: [StreamsModule],
  controllers: [],
  providers: [],
})
export class DataGatewayModule {}
