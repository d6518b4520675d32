/**
 * Stream and device ids, stream paths and data keys (PROTOCOL §1). Every id is checked here
 * before it can become part of a Redis key.
 */

export class StreamIdError extends Error {
  readonly code = 'BAD_STREAM_ID' as const;
  override readonly name = 'StreamIdError';
}

const STREAM_ID = /^[A-Za-z0-9][A-Za-z0-9_.\-/:]{0,199}$/;
const DEVICE_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const GLOB = /^[A-Za-z0-9_.\-/:*]{1,200}$/;
const MAX_PATH_IDS = 64;

function quoted(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

export function isValidStreamId(s: string): boolean {
  return typeof s === 'string' && STREAM_ID.test(s) && !s.includes('..') && !s.includes('//') && !s.endsWith('/');
}

export function isValidDeviceId(s: string): boolean {
  return typeof s === 'string' && DEVICE_ID.test(s);
}

export type StreamPath = { kind: 'list'; ids: string[] } | { kind: 'wildcard' } | { kind: 'glob'; pattern: string };

/**
 * The `{stream_id}` part of a data path. `a+b` lists streams (a space is accepted as the
 * separator too: it is what an unencoded `+` decodes to); `*` alone is the wildcard (push: the
 * header names the streams; pull: every stream of the device); in pull mode a single segment
 * with `*` in it is a glob over the device's stream ids.
 */
export function parseStreamPath(path: string, mode: 'push' | 'pull'): StreamPath {
  if (typeof path !== 'string' || path.length === 0) throw new StreamIdError('empty stream path');
  if (path === '*') return { kind: 'wildcard' };
  if (path.length > MAX_PATH_IDS * 201) throw new StreamIdError('stream path too long');
  const parts = path.split(/[+ ]/);
  if (path.includes('*')) {
    if (mode === 'pull' && parts.length === 1 && GLOB.test(path)) return { kind: 'glob', pattern: path };
    throw new StreamIdError(
      mode === 'pull'
        ? `bad stream pattern ${quoted(path)}`
        : `bad stream path ${quoted(path)}: a push path takes stream ids or a lone *`,
    );
  }
  if (parts.length > MAX_PATH_IDS) throw new StreamIdError(`too many streams in path (max ${MAX_PATH_IDS})`);
  const seen = new Set<string>();
  for (const id of parts) {
    if (!isValidStreamId(id)) throw new StreamIdError(`bad stream id ${quoted(id)}`);
    if (seen.has(id)) throw new StreamIdError(`stream ${quoted(id)} appears twice in the path`);
    seen.add(id);
  }
  return { kind: 'list', ids: parts };
}

/** `*` matches any run of characters (`/` and `:` included); all else is literal; anchored. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
    .join('.*');
  // 's': `.` must match line breaks too, or a pattern would silently miss such keys.
  return new RegExp(`^${body}$`, 's');
}

/** The Redis key of a stream. Throws StreamIdError for an invalid device or stream id. */
export function dataKey(deviceId: string, streamId: string, prefixing: boolean): string {
  if (!isValidStreamId(streamId)) throw new StreamIdError(`bad stream id ${quoted(String(streamId))}`);
  if (!prefixing) return streamId;
  if (!isValidDeviceId(deviceId)) throw new StreamIdError(`bad device id ${quoted(String(deviceId))}`);
  return `${deviceId}:${streamId}`;
}

/**
 * The stream id of a data key (inverse of dataKey). Throws StreamIdError when the key is not the
 * device's. The result is not validated: keys written by other tools are reported as they are.
 */
export function streamIdFromKey(key: string, deviceId: string, prefixing: boolean): string {
  if (!prefixing) return key;
  const prefix = `${deviceId}:`;
  if (!key.startsWith(prefix) || key.length === prefix.length) {
    throw new StreamIdError(`key ${quoted(key)} is not a stream of device ${quoted(deviceId)}`);
  }
  return key.slice(prefix.length);
}
