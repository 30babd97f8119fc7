// Evidence straight from the tables, for the checkers: what the API answered is compared with
// what these reads find. Every read is scoped to the projects it is asked about.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database.js';

/** An `id_registry` row as read from the database (bigint columns may arrive as strings). */
export interface RegistryRowEvidence {
  project_id: string;
  sequence_type: string;
  last_assigned_id: number | string | bigint;
}

/** An `id_reservations` row as read from the database. */
export interface ReservationRowEvidence {
  project_id: string;
  idempotency_key: string;
  sequence_type: string;
  first_id: number | string | bigint;
  last_id: number | string | bigint;
}

/** A `tasks` row as the task-writes checker compares it (see `taskRowsFromDb`). */
export interface TaskRowEvidence {
  readonly task_id: string;
  readonly title: string;
  /** The `jsonb` payload as the driver parsed it. */
  readonly payload: unknown;
}


/**
 * Reads what `reconcileIds` needs for the given projects: every `id_registry` row and
 * every `id_reservations` row.
 *
 * @example
 * const { registry, reservations } = await idEvidenceFromDb(db, ['alpha', 'beta']);
 */
export async function idEvidenceFromDb(
  db: Kysely<Database>,
  projectIds: readonly string[],
): Promise<{ registry: RegistryRowEvidence[]; reservations: ReservationRowEvidence[] }> {
  if (projectIds.length === 0) return { registry: [], reservations: [] };
  const registry = await db
    .selectFrom('id_registry')
    .select(['project_id', 'sequence_type', 'last_assigned_id'])
    .where('project_id', 'in', [...projectIds])
    .execute();
  const reservations = await db
    .selectFrom('id_reservations')
    .select(['project_id', 'idempotency_key', 'sequence_type', 'first_id', 'last_id'])
    .where('project_id', 'in', [...projectIds])
    .execute();
  return { registry, reservations };
}

/** A task row as the claim checker needs it. */
export interface ClaimRowEvidence {
  project_id: string;
  task_id: string;
  status: string;
  claimed_by: string | null;
}

/** Every task of the given projects that has been claimed (`claimed_by` set). */
export async function claimedRowsFromDb(db: Kysely<Database>, projectIds: readonly string[]): Promise<ClaimRowEvidence[]> {
  if (projectIds.length === 0) return [];
  return db
    .selectFrom('tasks')
    .select(['project_id', 'task_id', 'status', 'claimed_by'])
    .where('project_id', 'in', [...projectIds])
    .where('claimed_by', 'is not', null)
    .execute();
}

/**
 * Every task of one project as `checkTaskWrites` compares it with what the client sent.
 *
 * @example
 * const verdict = checkTaskWrites(writes, await taskRowsFromDb(db, 'res-down'));
 */
export async function taskRowsFromDb(db: Kysely<Database>, projectId: string): Promise<TaskRowEvidence[]> {
  return db.selectFrom('tasks').select(['task_id', 'title', 'payload']).where('project_id', '=', projectId).execute();
}

/** Keys of the rows each project owns in a project-scoped table. */
export async function keysPerProject(
  db: Kysely<Database>,
  table: 'tasks' | 'artifacts',
  projectIds: readonly string[],
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = Object.fromEntries(projectIds.map((p) => [p, [] as string[]]));
  if (projectIds.length === 0) return out;
  const rows =
    table === 'tasks'
      ? await db.selectFrom('tasks').select(['project_id', 'task_id as key']).where('project_id', 'in', [...projectIds]).execute()
      : await db.selectFrom('artifacts').select(['project_id', 'artifact_id as key']).where('project_id', 'in', [...projectIds]).execute();
  for (const r of rows) out[r.project_id]?.push(r.key);
  return out;
}

/** One row found in a project other than the one it was asked for. */
export interface CrossProjectRow {
  table: string;
  project_id: string;
  key: string;
}

/**
 * Isolation evidence straight from the tables: counts per project in each project-scoped
 * table, so a checker can compare what the API answered with what the database holds.
 */
export async function rowsPerProject(db: Kysely<any>, projectIds: readonly string[]): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const table of ['tasks', 'artifacts', 'id_registry', 'id_reservations', 'api_keys'] as const) {
    const { rows } = await sql<{ project_id: string; n: string }>`
      select project_id, count(*)::text as n from ${sql.table(table)}
      where project_id = any(${projectIds as string[]}) group by project_id`.execute(db);
    out[table] = Object.fromEntries(projectIds.map((p) => [p, Number(rows.find((r) => r.project_id === p)?.n ?? 0)]));
  }
  return out;
}
