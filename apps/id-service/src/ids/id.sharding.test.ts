// The sharding plan (docs/scaling.md) holds for the ID service: each hot query behind
// /admin/explain touches the distributed tables only through `project_id = <project>`, so
// Citus routes it to the project's one shard (the lookup's join of id_registry and
// id_retirements included: the two are co-located by project).
import { routesToOneShard, type Database } from '@crucible/db';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import { expect, it } from 'vitest';
import { idHotQueries } from './id.explain.js';

const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: {} as never }) });

it('every hot query of the ID service routes to one shard', () => {
  const checks = idHotQueries(db as unknown as Transaction<Database>, 'alpha').map((q) => ({ title: q.title, ...routesToOneShard(q.query.compile(), 'alpha') }));
  expect(checks.length).toBeGreaterThanOrEqual(3);
  for (const c of checks) expect(c.problems, c.title).toEqual([]);
  expect(new Set(checks.flatMap((c) => c.tables))).toEqual(new Set(['id_registry', 'id_retirements']));
});
