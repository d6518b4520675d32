import { Module } from '@nestjs/common';
import { ReadHub } from './read-hub.service';
import { StreamCatalog } from './stream-catalog.service';
import { StreamKeys } from './stream-keys.service';
import { StreamMetaService } from './stream-meta.service';
import { StreamReaders } from './stream-readers.service';
import { StreamWriter } from './stream-writer.service';

/** Stream keys, metadata and retention, the write path and the read hub shared by all transports. */
@Module({
  providers: [ReadHub, StreamKeys, StreamMetaService, StreamWriter, StreamReaders, StreamCatalog],
  exports: [ReadHub, StreamKeys, StreamMetaService, StreamWriter, StreamReaders, StreamCatalog],
})
export class StreamsModule {}
