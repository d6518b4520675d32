import { Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { createApp } from './app.factory';
import { AppConfig } from './config/app-config';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const app = await createApp();
  const config = app.get(AppConfig);
  await app.listen(config.get('PORT'), config.get('HOST'));
  new Logger('Bootstrap').log(`redis-streamer listening on ${await app.getUrl()} (docs at /docs)`);
}

main().catch((err: Error) => {
  new Logger('Bootstrap').error(err.message);
  process.exit(1);
});
