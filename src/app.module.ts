import { DynamicModule, Module } from '@nestjs/common';
import { ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AuthModule } from './auth/auth.module';
import { CommonModule } from './common/common.module';
import { HttpErrorFilter } from './common/http-error.filter';
import { ConfigModule } from './config/config.module';
import { Env } from './config/env.schema';
import { DataGatewayModule } from './data-gateway/data-gateway.module';
import { DevicesModule } from './devices/devices.module';
import { GraphqlApiModule } from './graphql/graphql-api.module';
import { HealthModule } from './health/health.module';
import { RedisModule } from './redis/redis.module';
import { StreamsModule } from './streams/streams.module';

@Module({})
export class AppModule {
  static forRoot(env: Env): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(env),
        RedisModule,
        HealthModule,
        AuthModule,
        CommonModule,
        StreamsModule,
        DevicesModule,
        DataGatewayModule,
        GraphqlApiModule,
      ],
      providers: [
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }),
        },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
      ],
    };
  }
}
