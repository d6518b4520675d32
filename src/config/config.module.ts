import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config';
import { Env } from './env.schema';

/**
 * Provides the validated environment (see `validateEnv`, called once at boot). Each app gets its
 * own snapshot, so process.env is never rewritten: tests run several apps with different settings
 * in one process.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(env: Env): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: AppConfig, useValue: new AppConfig(Object.freeze({ ...env })) }],
      exports: [AppConfig],
    };
  }
}
