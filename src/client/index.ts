// The client library for Node (WebSockets on `ws`). Browsers import `./browser` instead.
import { entryPoints } from './client';
import { nodeSockets } from './node-socket';

export * from './exports';
export { nodeSockets } from './node-socket';

const node = entryPoints(() => nodeSockets);

/** A client for the service at `options.url`, with Node WebSockets (`ws`) unless `options.sockets` is given. */
export const createClient = node.createClient;
/** A pusher for one stream of the service at `options.url` (see `Pusher`). */
export const pushStream = node.pushStream;
/** Entries of `a`, `a+b` or a glob as a reconnecting async iterator (see `Puller`). */
export const pullStream = node.pullStream;
