import { Module } from '@nestjs/common';
import { ConsumerGroups } from './consumer-groups.service';
import { GroupAdmin } from './group-admin.service';
import { GroupsController } from './groups.controller';
import { ReadHub } from './read-hub.service';
import { RetentionService } from './retention.service';
import { StreamCatalog } from './stream-catalog.service';
import { StreamKeys } from './stream-keys.service';
import { StreamManager } from './stream-manager.service';
import { StreamMetaService } from './stream-meta.service';
import { StreamReaders } from './stream-readers.service';
import { StreamWriter } from './stream-writer.service';
import { StreamsController } from './streams.controller';

/** The services other modules use: every transport stands on these. */
const SHARED = [
  ReadHub,
  StreamKeys,
  StreamMetaService,
  StreamWriter,
  StreamReaders,
  StreamCatalog,
  StreamManager,
  ConsumerGroups,
];

/** Stream keys, metadata and retention, the write path and the read hub shared by all transports. */
@Module({
  controllers: [StreamsController, GroupsController],
  providers: [...SHARED, RetentionService, GroupAdmin],
  exports: SHARED,
})
export class StreamsModule {}
