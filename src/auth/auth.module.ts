import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { JwtAuthGuard } from './jwt-auth.guard';
import { PermissionsService } from './permissions.service';
import { TokenController } from './token.controller';
import { JwtKey, TokenService } from './token.service';
import { UsersService } from './users.service';
import { WsAuthService } from './ws-auth.service';

@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => [{ name: 'default', ttl: 60_000, limit: config.get('AUTH_RATE_LIMIT') }],
    }),
  ],
  controllers: [TokenController],
  providers: [
    { provide: JwtKey, inject: [AppConfig], useFactory: (config: AppConfig) => new JwtKey(config) },
    UsersService,
    TokenService,
    PermissionsService,
    WsAuthService,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
  exports: [TokenService, PermissionsService, WsAuthService, UsersService],
})
export class AuthModule {}
