import { OffsetsMode } from './push-codec';

/** A query string problem, answered with HTTP 400 before the socket is accepted. */
export class QueryError extends Error {}

export type FrameFormat = 'binary' | 'json';

export interface PushQuery {
  format: FrameFormat;
  header: 'auto' | '1' | '0';
  ack: boolean;
  deviceId?: string;
  offsets: OffsetsMode;
}

/** Consumer-group mode of a pull (PROTOCOL §8). */
export interface GroupQuery {
  group: string;
  /** Generated when the client does not name one. */
  consumer?: string;
  start: string;
  create: boolean;
  ackMode: 'manual' | 'auto';
  claimIdleMs?: number;
  maxDeliveries: number;
}

export interface PullQuery {
  format: FrameFormat;
  /** Inclusive end of a replay (`until`, an id or a time): the socket closes with 1000 there. */
  until?: string;
  group?: GroupQuery;
  lastEntryId?: string;
  count?: string;
  latest: boolean;
  header: boolean;
  offsets: 'start' | 'end';
  ack: boolean;
  maxFps: number;
  deviceId?: string;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

function bool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '') return false;
  const lower = v.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  throw new QueryError(`${name} must be 0/1 or true/false, got ${JSON.stringify(v.slice(0, 20))}`);
}

function oneOf<T extends string>(q: URLSearchParams, name: string, allowed: readonly T[], fallback: T): T {
  const v = q.get(name);
  if (v === null || v === '') return fallback;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new QueryError(`${name} must be one of ${allowed.join('|')}, got ${JSON.stringify(v.slice(0, 20))}`);
  }
  return v as T;
}

/** Refuses unknown parameters (typos such as `lates=1` would otherwise be silently ignored). */
function only(q: URLSearchParams, known: string[]): void {
  for (const name of q.keys()) {
    if (name !== 'token' && !known.includes(name)) {
      throw new QueryError(`unknown query parameter ${JSON.stringify(name.slice(0, 30))}; known: ${known.join(', ')}`);
    }
  }
}

export function parsePushQuery(q: URLSearchParams): PushQuery {
  only(q, ['header', 'batch', 'ack', 'device_id', 'offsets', 'format']);
  let header = oneOf(q, 'header', ['auto', '1', '0', 'true', 'false'] as const, 'auto');
  if (header === 'true') header = '1';
  if (header === 'false') header = '0';
  // PTG's name for header=1.
  if (bool(q, 'batch')) {
    if (header === '0') throw new QueryError('batch=true contradicts header=0');
    header = '1';
  }
  return {
    format: oneOf(q, 'format', ['binary', 'json'] as const, 'binary'),
    header,
    ack: bool(q, 'ack'),
    deviceId: q.get('device_id') ?? undefined,
    offsets: oneOf(q, 'offsets', ['auto', 'start', 'end'] as const, 'auto'),
  };
}

export function parsePullQuery(q: URLSearchParams): PullQuery {
  only(q, [
    'last_entry_id',
    'count',
    'latest',
    'header',
    'offsets',
    'ack',
    'max_fps',
    'device_id',
    'format',
    'until',
    'group',
    'consumer',
    'group_start',
    'start_id',
    'create',
    'claim_idle_ms',
    'max_deliveries',
  ]);
  const group = q.get('group') ? parseGroup(q) : undefined;
  const fps = q.get('max_fps');
  if (fps !== null && fps !== '' && !(/^\d+(\.\d+)?$/.test(fps) && Number(fps) <= 1000)) {
    throw new QueryError('max_fps must be a number from 0 (no limit) to 1000');
  }
  return {
    format: oneOf(q, 'format', ['binary', 'json'] as const, 'binary'),
    lastEntryId: q.get('last_entry_id') ?? undefined,
    count: q.get('count') ?? undefined,
    latest: bool(q, 'latest'),
    header: q.get('header') === null ? true : bool(q, 'header'),
    offsets: oneOf(q, 'offsets', ['start', 'end'] as const, 'start'),
    ack: group ? false : bool(q, 'ack'),
    maxFps: fps ? Number(fps) : 0,
    until: q.get('until') || undefined,
    group,
    deviceId: q.get('device_id') ?? undefined,
  };
}

const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

function int(q: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d{1,10}$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new QueryError(`${name} must be an integer from ${min} to ${max}`);
  }
  return Number(v);
}

function parseGroup(q: URLSearchParams): GroupQuery {
  const group = q.get('group')!;
  const consumer = q.get('consumer') || undefined;
  for (const [name, value] of [
    ['group', group],
    ['consumer', consumer],
  ] as const) {
    if (value !== undefined && !NAME.test(value)) {
      throw new QueryError(`${name} must be 1-64 characters of A-Z a-z 0-9 _ . : -`);
    }
  }
  for (const name of ['latest', 'last_entry_id', 'until']) {
    if (q.get(name)) throw new QueryError(`${name} does not apply to a consumer-group pull`);
  }
  const ack = (q.get('ack') ?? 'manual').toLowerCase();
  if (!['manual', 'auto', '1', '0', 'true', 'false', ''].includes(ack)) {
    throw new QueryError('ack must be manual or auto in a consumer-group pull');
  }
  return {
    group,
    consumer,
    start: q.get('group_start') ?? q.get('start_id') ?? '$',
    create: q.get('create') === null ? true : bool(q, 'create'),
    ackMode: ack === 'auto' ? 'auto' : 'manual',
    claimIdleMs: int(q, 'claim_idle_ms', 1, 86_400_000),
    maxDeliveries: int(q, 'max_deliveries', 1, 1000) ?? 10,
  };
}
