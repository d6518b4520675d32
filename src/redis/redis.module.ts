import { Global, Logger, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RedisConnections } from './redis-connections';
import { RedisServerProcess } from './redis-server.launcher';
import { RedisStreamsService } from './redis-streams.service';

async function connect(config: AppConfig): Promise<RedisConnections> {
  const url = config.get('REDIS_URL');
  const commandTimeoutMs = config.get('REDIS_COMMAND_TIMEOUT_MS');
  if (url) return new RedisConnections(url, undefined, commandTimeoutMs);
  const logger = new Logger('EmbeddedRedis');
  const server = await RedisServerProcess.start({ dir: config.get('REDIS_DATA_DIR') });
  logger.log(`REDIS_URL not set: started redis-server on ${server.url} (pid ${server.pid}, AOF in ${server.dir})`);
  return new RedisConnections(server.url, server, commandTimeoutMs);
}

@Global()
@Module({
  providers: [{ provide: RedisConnections, inject: [AppConfig], useFactory: connect }, RedisStreamsService],
  exports: [RedisConnections, RedisStreamsService],
})
export class RedisModule {}
