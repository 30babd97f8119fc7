#!/usr/bin/env node
// `npm run sut`: starts the whole system under test, prints one JSON line with every URL,
// the database URL and the admin token, and stays up until Ctrl-C (which tears it all down).
import { startSut } from './sut.js';

try {
  const sut = await startSut({ log: process.env['CRUCIBLE_PG_LOG'] ? (l) => process.stderr.write(l) : undefined });
  process.stdout.write(`${JSON.stringify(sut.summary())}\n`);
  process.stderr.write('system under test is up; press Ctrl-C to stop and clean up\n');
  setInterval(() => {}, 1 << 30);
} catch (err) {
  process.stderr.write(`sut: ${(err as Error).message}\n`);
  process.exit(1);
}
