#!/usr/bin/env node
// Prints a bcrypt hash for AUTH_USERS_FILE: `npm run hash-password -- 'secret'`, or pipe the
// password on stdin so it stays out of the shell history.
const bcrypt = require('bcryptjs');

const COST = 12;

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function main() {
  const password = process.argv[2] ?? (process.stdin.isTTY ? '' : await readStdin());
  if (!password) {
    process.stderr.write('usage: npm run hash-password -- <password>   (or: echo -n secret | npm run -s hash-password)\n');
    process.exit(2);
  }
  process.stdout.write(`${bcrypt.hashSync(password, COST)}\n`);
}

main();
