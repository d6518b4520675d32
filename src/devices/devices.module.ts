import { Module } from '@nestjs/common';
import { StreamsModule } from '../streams/streams.module';
import { DevicesService } from './devices.service';

/** Device registry: connect/disconnect/meta and device events. */
@Module({ imports: [StreamsModule], providers: [DevicesService], exports: [DevicesService] })
export class DevicesModule {}
