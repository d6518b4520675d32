import { ClientOptions, Connection, streamPath, query } from './connection';
import type { Entry, Payload } from './entries';
import { networkError, StreamerError } from './errors';
import { DeviceSummary, listDevices, listStreams, runGraphql, StreamSummary } from './graphql';
import { PullOptions, Puller } from './puller';
import { PushOptions, Pusher } from './pusher';
import { getEntries, GetOptions, GetResult, postEntries, rangeEntries, RangeOptions } from './rest';
import { SocketFactory, webSockets } from './socket';

/** A token from `POST /token` (OAuth2 password form); a wrong password throws StreamerError with status 401. */
export async function getToken(
  url: string,
  username: string,
  password: string,
  fetchImpl: typeof fetch = (input, init) => fetch(input, init),
): Promise<string> {
  const base = url.replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetchImpl(`${base}/token`, { method: 'POST', body: new URLSearchParams({ username, password }) });
  } catch (err) {
    throw networkError(base, err);
  }
  if (!res.ok) throw StreamerError.fromResponse(res.status, await res.text(), 'POST /token');
  return ((await res.json()) as { access_token: string }).access_token;
}

/** A service's WebSocket, REST and GraphQL APIs behind one URL and token. */
export class StreamerClient {
  readonly connection: Connection;

  constructor(options: ClientOptions, defaultSockets: () => SocketFactory = () => webSockets()) {
    this.connection = new Connection(options, defaultSockets);
  }

  /** A pusher for one stream: batched, acknowledged, reconnecting (see `Pusher`). */
  pushStream(streamId: string, options?: PushOptions): Pusher {
    return new Pusher(this.connection, streamId, options);
  }

  /** Entries of `a`, `a+b` or a glob as an async iterator that reconnects and resumes (see `Puller`). */
  pullStream(streamIds: string, options?: PullOptions): Puller {
    return new Puller(this.connection, streamIds, options);
  }

  /** One long-poll read (`GET /data/{stream_ids}`): entries after `lastEntryId`, and the next cursor. */
  get(streamIds: string, options?: GetOptions): Promise<GetResult> {
    return getEntries(this.connection, streamIds, options);
  }

  /** Stores entries atomically (`POST /data/{stream_id}`); answers their ids. */
  post(streamId: string, entries: Payload[], options?: { deviceId?: string }): Promise<string[]> {
    return postEntries(this.connection, streamId, entries, options);
  }

  /** Entries between two ids or times (`GET /data/{stream_id}/range`). */
  range(streamId: string, options?: RangeOptions): Promise<Entry[]> {
    return rangeEntries(this.connection, streamId, options);
  }

  /** One stream described (`GET /streams/{stream_id}`: XINFO fields and metadata). */
  async info(streamId: string, options: { deviceId?: string } = {}): Promise<Record<string, unknown>> {
    const q = query({ device_id: options.deviceId });
    const res = await this.connection.request(`/streams/${streamPath(streamId)}${q}`);
    return (await res.json()) as Record<string, unknown>;
  }

  /** One GraphQL query or mutation (`POST /graphql`); errors throw StreamerError. */
  graphql<T = Record<string, unknown>>(source: string, variables?: Record<string, unknown>): Promise<T> {
    return runGraphql<T>(this.connection, source, variables);
  }

  /** The streams of a device with length and last entry (GraphQL). */
  streams(options?: { deviceId?: string; match?: string }): Promise<StreamSummary[]> {
    return listStreams(this.connection, options);
  }

  /** Connected devices, or all ever seen with `includeAll` (GraphQL). */
  devices(options?: { includeAll?: boolean }): Promise<DeviceSummary[]> {
    return listDevices(this.connection, options);
  }
}

/** The entry points of one platform, with its default WebSocket implementation. */
export function entryPoints(defaultSockets: () => SocketFactory) {
  const createClient = (options: ClientOptions): StreamerClient => new StreamerClient(options, defaultSockets);
  return {
    createClient,
    pushStream: (streamId: string, options: ClientOptions & PushOptions): Pusher =>
      createClient(options).pushStream(streamId, options),
    pullStream: (streamIds: string, options: ClientOptions & PullOptions): Puller =>
      createClient(options).pullStream(streamIds, options),
  };
}
