import { createDb, createPool, type Database } from '@crucible/db';
import { testDatabase } from '@crucible/testbed/testing';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkApiLeakage, checkSqlIsolation, type ApiObservation } from './leakage.checker.js';

type ListTasks = (db: Kysely<Database>, scope: { projectId: string }, requested?: string) => Promise<{ project_id: string; task_id: string }[]>;

/** The structural way: the scope from the key is the only project a query can name; another project is a 404. */
const scopedList: ListTasks = async (db, scope, requested) => {
  if (requested !== undefined && requested !== scope.projectId) return [];
  return db.selectFrom('tasks').select(['project_id', 'task_id']).where('project_id', '=', scope.projectId).orderBy('task_id').execute();
};

/** Sabotage 1: the project filter was forgotten. */
const unscopedList: ListTasks = async (db) =>
  db.selectFrom('tasks').select(['project_id', 'task_id']).where('status', '=', 'pending').orderBy('task_id').execute();

/** Sabotage 2: `?project=` is trusted instead of checked against the key. */
const trustingList: ListTasks = async (db, scope, requested) =>
  db
    .selectFrom('tasks')
    .select(['project_id', 'task_id'])
    .where('project_id', '=', requested ?? scope.projectId)
    .orderBy('task_id')
    .execute();

async function observe(list: ListTasks, db: Kysely<Database>, asking: string, requested?: string): Promise<ApiObservation> {
  const items = await list(db, { projectId: asking }, requested);
  return { asking_project: asking, requested_project: requested, endpoint: 'GET /tasks', status: 200, items };
}

describe('leakage checkers against list queries run on the real PostgreSQL', () => {
  let db: Kysely<Database>;
  const projects = ['alpha', 'beta', 'gamma'];
  beforeAll(async () => {
    const database = await testDatabase();
    db = createDb(createPool({ connectionString: database.url, max: 5 }));
    await db.insertInto('projects').values(projects.map((id) => ({ id }))).execute();
    // alpha 3 tasks, beta 2, gamma 1; ids unique across projects so an owner can be named.
    const rows = [
      ['alpha', 'A-1'],
      ['alpha', 'A-2'],
      ['alpha', 'A-3'],
      ['beta', 'B-1'],
      ['beta', 'B-2'],
      ['gamma', 'G-1'],
    ].map(([project_id, task_id]) => ({ project_id: project_id as string, task_id: task_id as string, title: `task ${task_id}`, status: 'pending' }));
    await db.insertInto('tasks').values(rows).execute();
  });
  afterAll(() => db?.destroy());

  it('passes the scoped query: API answers and SQL agree for every project', async () => {
    const own = await Promise.all(['alpha', 'beta'].map((p) => observe(scopedList, db, p)));
    const foreign = await observe(scopedList, db, 'alpha', 'beta');
    const api = checkApiLeakage([...own, foreign]);
    expect(api.status).toBe('pass');
    expect(api.counts).toMatchObject({ responses: 3, items: 5, leaked_items: 0, foreign_requests: 1, foreign_requests_with_rows: 0 });
    const listed = Object.fromEntries(own.map((o) => [o.asking_project, o.items.map((i) => String(i['task_id']))]));
    const sqlVerdict = await checkSqlIsolation(db, { table: 'tasks', listed, complete: true });
    expect(sqlVerdict.status).toBe('pass');
    expect(sqlVerdict.counts).toMatchObject({ listed_rows: 5, sql_rows: 5, leaked_rows: 0, count_mismatches: 0 });
  });

  it('catches the unscoped query: alpha sees 3 foreign rows from 2 projects, beta 4', async () => {
    const own = await Promise.all(['alpha', 'beta'].map((p) => observe(unscopedList, db, p)));
    const api = checkApiLeakage(own);
    expect(api.status).toBe('fail');
    expect(api.counts).toMatchObject({ responses: 2, items: 12, leaked_items: 7, leaking_project_pairs: 4 });
    expect(api.examples[0]).toMatchObject({ kind: 'leaked_row', asking_project: 'alpha', row_project: 'beta' });

    const listed = Object.fromEntries(own.map((o) => [o.asking_project, o.items.map((i) => String(i['task_id']))]));
    const sqlVerdict = await checkSqlIsolation(db, { table: 'tasks', listed, complete: true });
    expect(sqlVerdict.status).toBe('fail');
    // G-1 belongs to gamma, which nobody listed: still named as the owner, not a phantom.
    expect(sqlVerdict.counts).toMatchObject({ listed_rows: 12, sql_rows: 5, leaked_rows: 7, phantom_rows: 0, count_mismatches: 2 });
    expect(sqlVerdict.examples).toContainEqual({ kind: 'leaked_row', table: 'tasks', asking_project: 'alpha', key: 'G-1', owned_by: ['gamma'] });
  });

  it('catches the query that trusts ?project=: a foreign key gets beta\'s 2 rows', async () => {
    const foreign = await observe(trustingList, db, 'alpha', 'beta');
    const own = await observe(trustingList, db, 'alpha');
    const api = checkApiLeakage([own, foreign]);
    expect(api.status).toBe('fail');
    expect(api.counts).toMatchObject({ foreign_requests: 1, foreign_requests_with_rows: 1, leaked_items: 2, items: 5 });
  });

  it('counts rows without a project as leaks: isolation cannot be shown', () => {
    const v = checkApiLeakage([{ asking_project: 'alpha', endpoint: 'GET /x', status: 200, items: [{ task_id: 'A-1' }] }]);
    expect(v.status).toBe('fail');
    expect(v.counts['unscoped_items']).toBe(1);
  });

  it('catches a cross-project write no listing shows: a row alpha wrote, stored under gamma', async () => {
    // The listings agree with the table (gamma lists G-1 and holds it), so only what each project wrote tells.
    const listed = { alpha: ['A-1', 'A-2', 'A-3'], beta: ['B-1', 'B-2'], gamma: ['G-1'] };
    const clean = await checkSqlIsolation(db, { table: 'tasks', listed, complete: true, written: { alpha: ['A-1', 'A-2', 'A-3'], gamma: ['G-1'] } });
    expect(clean.status).toBe('pass');
    expect(clean.counts).toMatchObject({ written_rows: 4, misplaced_rows: 0 });
    const misplaced = await checkSqlIsolation(db, { table: 'tasks', listed, complete: true, written: { alpha: ['A-1', 'A-2', 'A-3', 'G-1'] } });
    expect(misplaced.status).toBe('fail');
    expect(misplaced.counts).toMatchObject({ leaked_rows: 0, count_mismatches: 0, written_rows: 4, misplaced_rows: 1 });
    expect(misplaced.examples).toContainEqual({ kind: 'misplaced_row', table: 'tasks', written_by: 'alpha', key: 'G-1', stored_under: ['gamma'] });
    // Asked about alpha only, gamma's row is still found.
    const narrow = await checkSqlIsolation(db, { table: 'tasks', listed: { alpha: ['A-1'] }, written: { alpha: ['A-1', 'G-1'] } });
    expect(narrow.counts['misplaced_rows']).toBe(1);
  });

  it('flags a listed key the database does not hold at all', async () => {
    const v = await checkSqlIsolation(db, { table: 'tasks', listed: { alpha: ['A-1', 'NOPE'] } });
    expect(v.counts).toMatchObject({ phantom_rows: 1, leaked_rows: 0 });
    expect(v.status).toBe('fail');
  });
});
