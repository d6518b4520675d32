import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type PullTransport = 'ws' | 'sse' | 'rest' | 'graphql';

/**
 * Prometheus metrics of this app (its own registry, so several apps in one process stay apart).
 * Label values are bounded: route templates and endpoint kinds, never stream ids.
 */
@Injectable()
export class MetricsService implements OnModuleDestroy {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly openSockets = new Gauge({
    name: 'websocket_connections_open',
    help: 'Open WebSocket connections by endpoint',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });

  readonly entriesPushed = new Counter({
    name: 'entries_pushed_total',
    help: 'Entries stored, by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  readonly bytesPushed = new Counter({
    name: 'bytes_pushed_total',
    help: 'Payload bytes stored, by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  /**
   * Entries and bytes delivered since the last scrape, by transport: plain sums on the delivery
   * path (a label lookup per message was 6 % of the fan-out profile), added to the counters below
   * when they are collected.
   */
  private readonly pulled = new Map<PullTransport, { entries: number; bytes: number }>();

  readonly entriesPulled = new Counter({
    name: 'entries_pulled_total',
    help: 'Entries delivered to readers, by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [transport, sums] of this.pulled) this.entriesPulled.inc({ transport }, sums.entries);
      for (const sums of this.pulled.values()) sums.entries = 0;
    },
  });

  readonly bytesPulled = new Counter({
    name: 'bytes_pulled_total',
    help: 'Payload bytes delivered to readers, by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [transport, sums] of this.pulled) this.bytesPulled.inc({ transport }, sums.bytes);
      for (const sums of this.pulled.values()) sums.bytes = 0;
    },
  });

  /** Counts a delivery of `entries` entries of `bytes` payload bytes. */
  countPulled(transport: PullTransport, entries: number, bytes: number): void {
    const sums = this.pulledBy(transport);
    sums.entries += entries;
    sums.bytes += bytes;
  }

  /** The running sums of one transport's deliveries, for a hot path to add to directly. */
  pulledBy(transport: PullTransport): { entries: number; bytes: number } {
    let sums = this.pulled.get(transport);
    if (sums === undefined) this.pulled.set(transport, (sums = { entries: 0, bytes: 0 }));
    return sums;
  }

  readonly redisLatency = new Histogram({
    name: 'redis_command_duration_seconds',
    help: 'Latency of Redis stream commands issued by the service',
    labelNames: ['command'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  /** Event-loop lag percentiles since the previous scrape (the histogram is reset on each read). */
  readonly eventLoopLag = new Gauge({
    name: 'eventloop_lag_seconds',
    help: 'Event-loop delay percentiles since the previous scrape (perf_hooks.monitorEventLoopDelay)',
    labelNames: ['quantile'] as const,
    registers: [this.registry],
    collect: () => {
      const h = this.loopDelay;
      const s = (ns: number): number => (Number.isFinite(ns) ? ns / 1e9 : 0);
      this.eventLoopLag.set({ quantile: '0.5' }, s(h.percentile(50)));
      this.eventLoopLag.set({ quantile: '0.99' }, s(h.percentile(99)));
      this.eventLoopLag.set({ quantile: '1' }, s(h.max));
      h.reset();
    },
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.loopDelay.enable();
  }

  onModuleDestroy(): void {
    this.loopDelay.disable();
  }

  /** Resolves to `result`, observing how long the Redis command took. */
  async timeRedis<T>(command: string, result: Promise<T>): Promise<T> {
    const end = this.redisLatency.startTimer({ command });
    try {
      return await result;
    } finally {
      end();
    }
  }
}
