import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, createPool, migrateToLatest } from '@crucible/db';
import type { PostgresServer } from './postgres.js';

async function admin<T>(server: PostgresServer, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server.adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Creates (once per server) a migrated template database and returns its name. Fresh test
 * databases are copies of it, which costs milliseconds instead of a migration run.
 */
export async function ensureTemplate(server: PostgresServer, name = `crucible_template_${process.pid}`): Promise<string> {
  await admin(server, async (c) => {
    await c.query(`drop database if exists ${quote(name)}`);
    await c.query(`create database ${quote(name)}`);
  });
  const pool = createPool({ connectionString: server.urlFor(name), max: 1 });
  const db = createDb(pool);
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  return name;
}

/** A fresh, migrated database of its own. */
export interface TestDatabase extends AsyncDisposable {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * Creates a fresh database as a copy of `template` (see {@link ensureTemplate}).
 * Dropping it terminates what is still connected.
 */
export async function createDatabase(server: PostgresServer, template: string, prefix = 'crucible'): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await admin(server, async (c) => {
    // Several test files may copy the template at once; PostgreSQL refuses a copy while
    // another session is inside the template, so retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`create database ${quote(name)} template ${quote(template)}`);
        return;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== '55006' || attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 50 + attempt * 25));
      }
    }
  });
  let dropped: Promise<void> | undefined;
  const drop = () =>
    (dropped ??= admin(server, async (c) => {
      await c.query(`drop database if exists ${quote(name)} with (force)`);
    }).catch(() => {}));
  return { name, url: server.urlFor(name), drop, [Symbol.asyncDispose]: drop };
}
