import { Controller, Get, Header, HttpStatus, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Public, PublicWhen } from '../auth/public.decorator';
import { RedisConnections } from '../redis/redis-connections';
import { MetricsService } from './metrics.service';

export class HealthDto {
  @ApiProperty({ enum: ['ok', 'unavailable'] })
  status: 'ok' | 'unavailable';

  @ApiProperty({ enum: ['up', 'down'] })
  redis: 'up' | 'down';

  @ApiProperty({ example: 12.5, description: 'Process uptime in seconds' })
  uptime_s: number;
}

@ApiTags('ops')
@Controller()
export class HealthController {
  constructor(
    private readonly redis: RedisConnections,
    private readonly metrics: MetricsService,
  ) {}

  @Public()
  @Get('health')
  @ApiOperation({ summary: 'Liveness and Redis readiness (public)' })
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({ type: HealthDto, description: 'Redis is unreachable' })
  async health(@Res({ passthrough: true }) res: Response): Promise<HealthDto> {
    const up = await this.redis.ping();
    res.status(up ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: up ? 'ok' : 'unavailable',
      redis: up ? 'up' : 'down',
      uptime_s: Math.round(process.uptime() * 10) / 10,
    };
  }

  @Get('metrics')
  @PublicWhen('METRICS_PUBLIC')
  @ApiBearerAuth()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (token required unless METRICS_PUBLIC=true)' })
  @ApiOkResponse({ description: 'Prometheus text exposition format', schema: { type: 'string' } })
  async prometheus(@Res({ passthrough: true }) res: Response): Promise<string> {
    res.type(this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
