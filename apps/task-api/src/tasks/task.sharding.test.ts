// The sharding plan (docs/scaling.md) holds for the task API: each hot query behind
// /admin/explain, built by the repository itself, touches the distributed tables only through
// `project_id = <project>`, so Citus routes it to the project's one shard.
import { routesToOneShard, type Database } from '@crucible/db';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import { expect, it } from 'vitest';
import { taskHotQueries } from './task.explain.js';

const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: {} as never }) });

it('every hot query of the task API routes to one shard', () => {
  const checks = taskHotQueries(db as unknown as Transaction<Database>, 'alpha').map((q) => ({ title: q.title, ...routesToOneShard(q.query.compile(), 'alpha') }));
  expect(checks.length).toBeGreaterThanOrEqual(4);
  for (const c of checks) expect(c.problems, c.title).toEqual([]);
  expect(new Set(checks.flatMap((c) => c.tables))).toEqual(new Set(['tasks']));
});
