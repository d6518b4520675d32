#!/usr/bin/env node
// `redis-streamer`: push, pull and inspect streams of a redis-streamer service from a terminal.
import { COMMON_HELP, parseCommandLine, UsageError } from './args';
import type { Command } from './command';
import { hashPassword, token } from './commands/auth';
import { devices, info, ls } from './commands/inspect';
import { pull, pullImage, tail } from './commands/pull';
import { push, pushImage, pushIncrement } from './commands/push';
import { createContext, DEFAULT_URL } from './context';
import { explain } from './explain';

const COMMANDS: Command[] = [
  token,
  push,
  pushIncrement,
  pushImage,
  pull,
  pullImage,
  tail,
  ls,
  info,
  devices,
  hashPassword,
];

/** Exit codes: 0 done, 1 the service or the network failed, 2 bad command line. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, INTERRUPTED: 130 } as const;

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => `${c.name} ${c.usage}`.length));
  const lines = COMMANDS.map((c) => `  ${`${c.name} ${c.usage}`.padEnd(width)}  ${c.summary}`);
  return `usage: redis-streamer <command> [options]

commands:
${lines.join('\n')}

${COMMON_HELP}

'redis-streamer <command> --help' describes a command. Exit codes: 0 ok, 1 failed, 2 bad usage.`;
}

function commandHelp(c: Command): string {
  const own = c.optionHelp ? `options:\n${c.optionHelp}\n\n` : '';
  return `usage: redis-streamer ${c.name} ${c.usage}\n\n${c.summary}\n\n${own}${COMMON_HELP}`;
}

/** Runs one command line and answers its exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${mainHelp()}\n`);
    return EXIT.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`${name ? `unknown command ${JSON.stringify(name)}\n` : ''}${mainHelp()}\n`);
    return EXIT.USAGE;
  }
  let url = env.REDIS_STREAMER_URL || DEFAULT_URL;
  try {
    const { values, positionals } = parseCommandLine(rest, command.options ?? {}, command.args);
    if (values.help) {
      process.stdout.write(`${commandHelp(command)}\n`);
      return EXIT.OK;
    }
    const ctx = createContext(values, positionals, env, signal);
    url = ctx.url;
    await command.run(ctx);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(
        `redis-streamer ${name}: ${err.message}\nusage: redis-streamer ${name} ${command.usage}  (see --help)\n`,
      );
      return EXIT.USAGE;
    }
    process.stderr.write(`redis-streamer ${name}: ${explain(err, url)}\n`);
    return EXIT.FAILED;
  }
}

if (require.main === module) {
  const stop = new AbortController();
  // The first Ctrl-C lets the command finish what it holds (flush a push, print a summary); the second exits.
  const interrupt = (): void => {
    if (stop.signal.aborted) process.exit(EXIT.INTERRUPTED);
    stop.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.OK); // `| head` closed the pipe
    throw err;
  });
  void main(process.argv.slice(2), process.env, stop.signal).then((code) => {
    // Exit once stdout is flushed, whatever handles (stdin, timers) are still open.
    process.stdout.write('', () => process.exit(code));
  });
}
