import { Env } from './env.schema';

/** Typed read access to the validated environment (one immutable snapshot per app). */
export class AppConfig {
  constructor(private readonly env: Readonly<Env>) {}

  get<K extends keyof Env>(key: K): Env[K] {
    return this.env[key];
  }
}
