interface Pending<V> {
  resolve: (value: V) => void;
  reject: (err: unknown) => void;
}

/**
 * Collects the keys asked for while a GraphQL response is being resolved and loads them with one
 * call once the current turn of the event loop is over (the DataLoader idea, for one request).
 * Each key is loaded once per batcher; keep one batcher per request so results never go stale.
 */
export class Batcher<V> {
  private readonly cache = new Map<string, Promise<V>>();
  private queue = new Map<string, Pending<V>>();

  constructor(private readonly loadAll: (keys: string[]) => Promise<V[]>) {}

  load(key: string): Promise<V> {
    let promise = this.cache.get(key);
    if (!promise) {
      promise = new Promise<V>((resolve, reject) => {
        if (this.queue.size === 0) setImmediate(() => void this.flush());
        this.queue.set(key, { resolve, reject });
      });
      this.cache.set(key, promise);
    }
    return promise;
  }

  loadMany(keys: string[]): Promise<V[]> {
    return Promise.all(keys.map((k) => this.load(k)));
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = new Map();
    const keys = [...batch.keys()];
    try {
      const values = await this.loadAll(keys);
      keys.forEach((key, i) => batch.get(key)!.resolve(values[i]));
    } catch (err) {
      for (const key of keys) {
        this.cache.delete(key);
        batch.get(key)!.reject(err);
      }
    }
  }
}

/** One Batcher per request (keyed by the GraphQL context object, released with it). */
export class RequestBatchers<V> {
  private readonly byRequest = new WeakMap<object, Batcher<V>>();

  constructor(private readonly loadAll: (keys: string[]) => Promise<V[]>) {}

  for(request: object): Batcher<V> {
    let batcher = this.byRequest.get(request);
    if (!batcher) {
      batcher = new Batcher(this.loadAll);
      this.byRequest.set(request, batcher);
    }
    return batcher;
  }
}
