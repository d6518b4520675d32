import { Module } from '@nestjs/common';
import { AsyncApiController } from '../asyncapi/asyncapi.controller';
import { StreamsModule } from '../streams/streams.module';
import { DataController } from './data.controller';
import { EventsController } from './events.controller';
import { RequestLifetimes } from './request-lifetimes.service';
import { RestDataService } from './rest-data.service';
import { SseService } from './sse.service';
import { WsDataGateway } from './ws-data.gateway';

/** WebSocket push/pull, REST /data and Server-Sent Events. */
@Module({
  imports: [StreamsModule],
  // EventsController before DataController: `GET /data/{*path}` would take `x/events` first.
  controllers: [EventsController, DataController, AsyncApiController],
  providers: [WsDataGateway, RestDataService, SseService, RequestLifetimes],
})
export class DataGatewayModule {}
