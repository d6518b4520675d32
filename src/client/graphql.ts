import { Connection } from './connection';
import { StreamerError } from './errors';

interface GraphqlError {
  message: string;
  extensions?: { code?: string };
}

/** A stream as `streams()` lists it (a subset of the GraphQL `Stream` type). */
export interface StreamSummary {
  streamId: string;
  /** The Redis key. */
  key: string;
  length: number;
  firstEntryId: string | null;
  lastEntryId: string | null;
  /** ISO-8601 UTC. */
  lastEntryTime: string | null;
  meta: Record<string, unknown>;
  /** Set (e.g. `no such key`) for a stream that has metadata but no data. */
  error: string | null;
}

/** A device as `devices()` lists it. */
export interface DeviceSummary {
  id: string;
  connected: boolean;
  meta: Record<string, unknown>;
  streamIds: string[];
}

/** Runs one GraphQL operation over HTTP POST; GraphQL errors throw StreamerError with their code. */
export async function runGraphql<T>(conn: Connection, source: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await conn.send('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: source, variables }),
  });
  const text = await res.text();
  let body: { data?: T; errors?: GraphqlError[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw StreamerError.fromResponse(res.status, text, 'POST /graphql');
  }
  if (body.errors?.length) {
    const [first] = body.errors;
    const code = first.extensions?.code;
    throw new StreamerError(`GraphQL: ${first.message}${code ? ` (${code})` : ''}`, {
      detail: first.message,
      status: code === 'UNAUTHENTICATED' ? 401 : code === 'FORBIDDEN' ? 403 : undefined,
    });
  }
  if (!res.ok || body.data === undefined) throw StreamerError.fromResponse(res.status, text, 'POST /graphql');
  return body.data;
}

const STREAM_FIELDS = 'streamId key length firstEntryId lastEntryId lastEntryTime meta error';

/** The streams of a device with their length and last entry (GraphQL `streams`). */
export async function listStreams(
  conn: Connection,
  opts: { deviceId?: string; match?: string } = {},
): Promise<StreamSummary[]> {
  const data = await runGraphql<{ streams: StreamSummary[] }>(
    conn,
    `query($d: String, $m: String) { streams(deviceId: $d, match: $m) { ${STREAM_FIELDS} } }`,
    { d: opts.deviceId ?? 'default', m: opts.match },
  );
  return data.streams;
}

/** Connected devices, or every device ever seen with `includeAll` (GraphQL `devices`). */
export async function listDevices(conn: Connection, opts: { includeAll?: boolean } = {}): Promise<DeviceSummary[]> {
  const data = await runGraphql<{ devices: DeviceSummary[] }>(
    conn,
    'query($all: Boolean!) { devices(includeAll: $all) { id connected meta streamIds } }',
    { all: opts.includeAll ?? false },
  );
  return data.devices;
}
