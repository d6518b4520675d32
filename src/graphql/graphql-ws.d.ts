// The project resolves modules the Node 10 way, which ignores package `exports`: point the
// `graphql-ws/use/ws` subpath at its declaration file (the runtime require uses `exports`).
declare module 'graphql-ws/use/ws' {
  export * from 'graphql-ws/dist/use/ws';
}
