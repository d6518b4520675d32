import { parseArgs, ParseArgsConfig } from 'node:util';

/** A bad command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | undefined>;

/** Options every command takes: where the service is, who we are, how to print. */
export const COMMON_OPTIONS: OptionSpec = {
  url: { type: 'string' },
  token: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  device: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const COMMON_HELP = `common options:
  --url URL          service URL (env REDIS_STREAMER_URL, default http://127.0.0.1:8000)
  --token T          bearer token (env REDIS_STREAMER_TOKEN)
  --user U --password P
                     get a token from POST /token instead (env REDIS_STREAMER_USER / _PASSWORD)
  --device ID        device of the streams (default "default")
  --json             machine-readable output on stdout
  -h, --help         this help`;

/** Options and positionals of one command line, checked against the command's spec. */
export function parseCommandLine(
  args: string[],
  options: OptionSpec,
  positionals: { min: number; max: number },
): { values: Values; positionals: string[] } {
  let parsed: { values: Values; positionals: string[] };
  try {
    // No option is declared `multiple`, so every value is a string or a boolean.
    parsed = parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true }) as {
      values: Values;
      positionals: string[];
    };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.values.help) return parsed;
  const n = parsed.positionals.length;
  if (n < positionals.min) throw new UsageError(`missing argument${positionals.min - n > 1 ? 's' : ''}`);
  if (n > positionals.max)
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`);
  return parsed;
}

/** A string option's value, or `fallback`. */
export function text(values: Values, name: string, fallback?: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : fallback;
}

/** A numeric option between `min` and `max` (integers only unless `fractional`). */
export function num(
  values: Values,
  name: string,
  fallback: number,
  range: { min: number; max?: number; fractional?: boolean },
): number {
  const raw = values[name];
  if (typeof raw !== 'string') return fallback;
  const n = Number(raw);
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (
    raw.trim() === '' ||
    !Number.isFinite(n) ||
    (!range.fractional && !Number.isInteger(n)) ||
    n < range.min ||
    n > max
  ) {
    const kind = range.fractional ? 'a number' : 'an integer';
    throw new UsageError(
      `--${name} must be ${kind} from ${range.min}${range.max === undefined ? ' up' : ` to ${max}`}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}
