import { Module } from '@nestjs/common';
import { StreamsModule } from '../streams/streams.module';
import { WsDataGateway } from './ws-data.gateway';

/** WebSocket push/pull, REST /data and Server-Sent Events. */
@Module({
  imports: [StreamsModule],
  controllers: [],
  providers: [WsDataGateway],
})
export class DataGatewayModule {}
