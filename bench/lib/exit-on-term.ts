/**
 * Preloaded into the service only when it is profiled (`--cpu-prof`). Nest's shutdown hook closes
 * the application and then re-raises SIGTERM, which would kill the process before V8 writes the
 * profile; with this listener in place the second signal becomes a normal exit instead.
 */
let signals = 0;
process.on('SIGTERM', () => {
  if (++signals > 1) process.exit(0);
  setTimeout(() => process.exit(0), 45_000).unref();
});

export {};
