/**
 * Query strings of the REST routes (PROTOCOL §5), parsed from the raw URL so that every value is
 * a plain string. Errors are StreamErrors: the HTTP filter answers 400 `{"detail"}`.
 */
import { StreamError } from '../stream-error';
import { StreamReaders } from '../stream-readers.service';

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

function bad(message: string): StreamError {
  return new StreamError('BAD_REQUEST', message);
}

function shown(v: string): string {
  return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v);
}

/** A query string with typed accessors; unknown names (other than `token`) are refused. */
export class QueryParams {
  constructor(
    private readonly q: URLSearchParams,
    known: readonly string[],
  ) {
    for (const name of q.keys()) {
      if (name !== 'token' && !known.includes(name)) {
        throw bad(`unknown query parameter ${shown(name)}; known: ${known.join(', ')}`);
      }
    }
  }

  /** The query of a request URL (`/path?a=1`). */
  static of(url: string | undefined, known: readonly string[]): QueryParams {
    const at = (url ?? '').indexOf('?');
    return new QueryParams(new URLSearchParams(at < 0 ? '' : url!.slice(at + 1)), known);
  }

  text(name: string): string | undefined {
    const v = this.q.get(name);
    return v === null || v === '' ? undefined : v;
  }

  /** `1/true/yes/on` or `0/false/no/off`, any case (Python's `True` included). */
  flag(name: string, fallback = false): boolean {
    const v = this.text(name);
    if (v === undefined) return fallback;
    const lower = v.toLowerCase();
    if (TRUE.has(lower)) return true;
    if (FALSE.has(lower)) return false;
    throw bad(`${name} must be true/false or 1/0, got ${shown(v)}`);
  }

  /** An integer in [min, max]. */
  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.text(name);
    if (v === undefined) return fallback;
    if (!/^\d{1,9}$/.test(v) || Number(v) < min || Number(v) > max) {
      throw bad(`${name} must be an integer from ${min} to ${max}, got ${shown(v)}`);
    }
    return Number(v);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.text(name);
    if (v === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(v)) throw bad(`${name} must be one of ${allowed.join('|')}`);
    return v as T;
  }

  /** `count` (1 to 10000), as everywhere else. */
  count(fallback: number): number {
    return StreamReaders.count(this.text('count'), fallback);
  }
}
