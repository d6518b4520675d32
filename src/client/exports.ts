// Everything of the client that is the same in Node and in browsers (no Node-only import).
export { Backoff, Connection } from './connection';
export type { ClientOptions, ReconnectOptions, TokenSource } from './connection';
export { concatBytes, decodeMessage, encodeBatch, toBytes } from './entries';
export type { EncodedBatch, Entry, Payload } from './entries';
export { StreamerError } from './errors';
export type { ErrorDetails } from './errors';
export type { DeviceSummary, StreamSummary } from './graphql';
export { Puller } from './puller';
export type { PullOptions } from './puller';
export { Pusher } from './pusher';
export type { PushOptions, PushStats } from './pusher';
export type { RetryListener } from './reconnecting-socket';
export type { GetOptions, GetResult, RangeOptions } from './rest';
export { webSockets, withQueryToken } from './socket';
export type { SocketEvents, SocketFactory, SocketLike, WhatwgSocketConstructor } from './socket';
export { getToken, StreamerClient } from './client';
