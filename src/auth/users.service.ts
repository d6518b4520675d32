import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import bcrypt from 'bcryptjs';
import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { globToRegExp } from '../streams/stream-id';
import { AuthUser } from './auth-user';

interface UserRecord {
  user: AuthUser;
  hash: string;
}

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
// Compared against when the user is unknown, so that both cases take one bcrypt's time.
const DUMMY_HASH = '$2b$10$FrUjt5gFXAnPeREG4EXJZ.TjLgUvWo8xma2DlZ.rgq9bY/6i.R7zi';

function patterns(value: unknown, where: string): RegExp[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((p) => typeof p === 'string' && p.length > 0)) {
    throw new Error(`${where}: must be an array of non-empty glob strings`);
  }
  return value.map((p: string) => globToRegExp(p));
}

/** Users from AUTH_USERS_FILE, plus the development identities when AUTH_DEV_MODE is on. */
@Injectable()
export class UsersService implements OnModuleInit {
  private readonly logger = new Logger(UsersService.name);
  private readonly users = new Map<string, UserRecord>();
  readonly devMode: boolean;

  constructor(private readonly config: AppConfig) {
    this.devMode = config.get('AUTH_DEV_MODE') === true;
    const file = config.get('AUTH_USERS_FILE');
    if (file) this.load(file);
  }

  onModuleInit(): void {
    if (this.devMode) {
      this.logger.warn(
        'AUTH_DEV_MODE is ON: any username == password gets a token with read/write on every stream. ' +
          'Set AUTH_USERS_FILE (and AUTH_DEV_MODE=false) for a real deployment.',
      );
    }
    if (!this.devMode && this.users.size === 0) {
      this.logger.warn('No users configured and AUTH_DEV_MODE is off: nobody can obtain a token.');
    }
  }

  private load(file: string): void {
    let list: unknown;
    try {
      list = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`AUTH_USERS_FILE: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    if (!Array.isArray(list)) throw new Error(`AUTH_USERS_FILE: ${file} must hold a JSON array of users`);
    list.forEach((raw: Record<string, unknown>, i) => {
      const where = `AUTH_USERS_FILE: user #${i}`;
      if (typeof raw !== 'object' || raw === null) throw new Error(`${where}: must be an object`);
      const { username, password_hash: hash, roles } = raw;
      if (typeof username !== 'string' || !username) throw new Error(`${where}: username missing`);
      if (typeof hash !== 'string' || !BCRYPT.test(hash)) {
        throw new Error(`${where} (${username}): password_hash must be a bcrypt hash ($2b$...)`);
      }
      if (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === 'string'))) {
        throw new Error(`${where} (${username}): roles must be an array of strings`);
      }
      if (this.users.has(username)) throw new Error(`${where}: duplicate username ${username}`);
      const user: AuthUser = {
        username,
        read: patterns(raw.read, `${where} (${username}) read`),
        write: patterns(raw.write, `${where} (${username}) write`),
        admin: Array.isArray(roles) && roles.includes('admin'),
        dev: false,
      };
      this.users.set(username, { user, hash });
    });
  }

  private devUser(username: string): AuthUser {
    const all = [/^[\s\S]*$/];
    return { username, read: all, write: all, admin: false, dev: true };
  }

  /** Checks a password; a configured user is never matched by the development rule. */
  async verify(username: string, password: string): Promise<AuthUser | null> {
    const record = this.users.get(username);
    const ok = await bcrypt.compare(password, record?.hash ?? DUMMY_HASH);
    if (record) return ok ? record.user : null;
    if (this.devMode && username.length > 0) {
      const a = Buffer.from(username);
      const b = Buffer.from(password);
      if (a.length === b.length && timingSafeEqual(a, b)) return this.devUser(username);
    }
    return null;
  }

  /** The user a verified token speaks for, or null when it no longer exists. */
  resolve(username: string): AuthUser | null {
    const record = this.users.get(username);
    if (record) return record.user;
    return this.devMode && username.length > 0 ? this.devUser(username) : null;
  }
}
