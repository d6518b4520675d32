import { Module } from '@nestjs/common';

/** Stream ids/keys, metadata, info, retention and the read hub (filled by the streams issues). */
@Module({})
export class StreamsModule {}
