import { Kysely, PostgresDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Database } from './database.js';
import { routesToOneShard, simulateShards } from './sharding.js';

// Queries are only compiled here (no connection is made): the check reads SQL and its parameters.
const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: {} as never }) });

describe('routesToOneShard', () => {
  it('passes a query scoped to the project, and an insert that gives the project', () => {
    expect(routesToOneShard(db.selectFrom('tasks').selectAll().where('project_id', '=', 'alpha').where('status', '=', 'pending').compile(), 'alpha')).toMatchObject({ routes: true, tables: ['tasks'] });
    const insert = db.insertInto('tasks').values({ project_id: 'alpha', task_id: 't', title: 'x', status: 'pending' }).compile();
    expect(routesToOneShard(insert, 'alpha').routes).toBe(true);
    // Reference tables route anywhere.
    expect(routesToOneShard(db.selectFrom('projects').selectAll().compile(), 'alpha').routes).toBe(true);
  });

  it('fails a scan of every shard, a predicate on another value, a subquery left unscoped, an insert without the project', () => {
    const unscoped = routesToOneShard(db.selectFrom('tasks').selectAll().where('status', '=', 'pending').compile(), 'alpha');
    expect(unscoped.routes).toBe(false);
    expect(unscoped.problems.join()).toContain('a scan of every shard');
    expect(routesToOneShard(db.selectFrom('tasks').selectAll().where('project_id', '=', 'beta').compile(), 'alpha').problems.join()).toContain('bound to "beta"');
    const sub = db
      .updateTable('tasks')
      .set({ status: 'done' })
      .where('project_id', '=', 'alpha')
      .where('task_id', '=', (eb) => eb.selectFrom('tasks').select('task_id').where('status', '=', 'pending').limit(1))
      .compile();
    expect(routesToOneShard(sub, 'alpha').routes).toBe(false);
    const noProject = routesToOneShard(db.insertInto('id_registry').values({ project_id: 'beta', sequence_type: 'US', last_assigned_id: 1 }).compile(), 'alpha');
    expect(noProject.problems.join()).toContain("insert into id_registry does not give project_id the project's value");
  });
});

describe('simulateShards', () => {
  it('puts each hash in its range of the int32 space, shards round-robin over nodes', () => {
    // Shard 0 holds the lowest 1/32 of the hash space, shard 31 the highest; with 2 nodes even shards are node 0.
    const lowest = -(2 ** 31);
    const sim = simulateShards([{ hash: lowest, load: 3 }, { hash: lowest + 2 ** 27, load: 1 }, { hash: 2 ** 31 - 1, load: 1 }], 2);
    expect(sim.shares).toEqual([0.6, 0.4]);
    expect(sim.hottestShare).toBe(0.6);
    expect(sim.hottestVsFair).toBe(1.2);
  });
});
