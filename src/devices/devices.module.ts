import { Module } from '@nestjs/common';

/** Device registry: connect/disconnect/meta and device events. */
@Module({})
export class DevicesModule {}
