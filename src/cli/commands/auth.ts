import bcrypt from 'bcryptjs';
import { getToken } from '../../client';
import { num, UsageError } from '../args';
import { Command, readAll } from '../command';

export const token: Command = {
  name: 'token',
  usage: '',
  summary: 'print a token for --user/--password (export it as REDIS_STREAMER_TOKEN)',
  args: { min: 0, max: 0 },
  run: async (ctx) => {
    const creds = ctx.credentials();
    if (!creds)
      throw new UsageError('token needs --user and --password (or REDIS_STREAMER_USER / REDIS_STREAMER_PASSWORD)');
    const t = await getToken(ctx.url, creds.username, creds.password);
    ctx.out(ctx.json ? JSON.stringify({ access_token: t, token_type: 'bearer' }) : t);
  },
};

export const hashPassword: Command = {
  name: 'hash-password',
  usage: '[password]',
  summary: 'print a bcrypt hash for AUTH_USERS_FILE (the password from stdin when not given)',
  optionHelp: '  --cost N           bcrypt cost (default 12)',
  options: { cost: { type: 'string' } },
  args: { min: 0, max: 1 },
  run: async (ctx) => {
    const cost = num(ctx.values, 'cost', 12, { min: 4, max: 16 });
    const password =
      ctx.positionals[0] ??
      (process.stdin.isTTY ? '' : (await readAll(process.stdin)).toString('utf8').replace(/\r?\n$/, ''));
    if (!password) throw new UsageError('give the password as an argument or on stdin');
    const hash = await bcrypt.hash(password, cost);
    ctx.out(ctx.json ? JSON.stringify({ password_hash: hash }) : hash);
  },
};
