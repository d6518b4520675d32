// The client library for browsers: the global WebSocket (token in the query) and fetch.
import { entryPoints } from './client';
import { webSockets } from './socket';

export * from './exports';

const browser = entryPoints(() => webSockets());

/** A client for the service at `options.url`, with the global WebSocket unless `options.sockets` is given. */
export const createClient = browser.createClient;
/** A pusher for one stream of the service at `options.url` (see `Pusher`). */
export const pushStream = browser.pushStream;
/** Entries of `a`, `a+b` or a glob as a reconnecting async iterator (see `Puller`). */
export const pullStream = browser.pullStream;
