import bcrypt from 'bcryptjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type request from 'supertest';

/** A supertest parser that keeps the body as raw bytes (`.buffer(true).parse(binary)`). */
export function binary(res: request.Response, cb: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

/** The entries of a `GET /data` body, cut at the start offsets of its `x-offsets` header. */
export function splitEntries(body: Buffer, offsets: string): { sid: string; id: string; data: string }[] {
  const rows = JSON.parse(offsets) as [string, string, number][];
  return rows.map(([sid, id, start], i) => ({
    sid,
    id,
    data: body.subarray(start, i + 1 < rows.length ? rows[i + 1][2] : body.length).toString(),
  }));
}

export interface TestUser {
  username: string;
  password: string;
  read?: string[];
  write?: string[];
  roles?: string[];
}

/** An AUTH_USERS_FILE in a fresh temporary folder (passwords hashed with a cheap bcrypt cost). */
export function writeUsersFile(users: TestUser[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rs-users-')), 'users.json');
  const records = users.map(({ password, ...rest }) => ({ ...rest, password_hash: bcrypt.hashSync(password, 4) }));
  writeFileSync(file, JSON.stringify(records));
  return file;
}
