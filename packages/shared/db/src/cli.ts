#!/usr/bin/env node
// Usage: DATABASE_URL=postgres://… crucible-migrate [latest|down|empty]
import { createDb, createPool } from './pool.js';
import { migrateDown, migrateToEmpty, migrateToLatest } from './migrate.js';

const url = process.env['DATABASE_URL'];
const command = process.argv[2] ?? 'latest';
if (!url) {
  console.error('DATABASE_URL is not set: it must name the PostgreSQL database to migrate');
  process.exit(2);
}
if (!['latest', 'down', 'empty'].includes(command)) {
  console.error(`unknown command "${command}": use latest, down or empty`);
  process.exit(2);
}
const pool = createPool({ connectionString: url, max: 1 });
const db = createDb(pool);
try {
  const run = command === 'latest' ? migrateToLatest : command === 'down' ? migrateDown : migrateToEmpty;
  const names = await run(db);
  console.log(JSON.stringify({ command, migrations: names }));
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
