// Evidence of the task API's entity references straight from the tables: each stored ref
// judged against the ID service's own records of the task's project, in SQL, so no API
// answer (the task API's or the ID service's) stands between a stored ref and the verdict.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database.js';

/** One ref stored on a task, and what the ID service's tables say of it for the task's project. */
export interface StoredRefEvidence {
  readonly project_id: string;
  readonly task_id: string;
  readonly ref: string;
  /** `issued` (live), `retired`, or `unknown`: never issued to this project (another project's, or none's). */
  readonly state: 'issued' | 'retired' | 'unknown';
}

/**
 * Every ref stored on the tasks of `projectIds`, with its state for the task's own project:
 * issued when its number is within that project's sequence of its type (`id_registry`),
 * retired when `id_retirements` has it, unknown otherwise. An id that is not in `TYPE-NNN`
 * form (only a defect could have stored one) is unknown.
 *
 * @example
 * const foreign = (await storedRefsFromDb(db, ['alpha', 'beta'])).filter((r) => r.state === 'unknown');
 */
export async function storedRefsFromDb(db: Kysely<Database>, projectIds: readonly string[]): Promise<StoredRefEvidence[]> {
  if (projectIds.length === 0) return [];
  const { rows } = await sql<StoredRefEvidence>`
    select t.project_id, t.task_id, r.ref,
      case when x.number is not null then 'retired'
           when g.last_assigned_id >= (substring(r.ref from '-(\\d+)$'))::bigint then 'issued'
           else 'unknown' end as state
    from tasks t
    cross join lateral unnest(t.refs) as r(ref)
    left join id_registry g
      on g.project_id = t.project_id and r.ref ~ '^[A-Z][A-Z0-9_]{0,15}-\\d{3,}$' and g.sequence_type = substring(r.ref from '^(.*)-\\d+$')
    left join id_retirements x
      on x.project_id = t.project_id and g.sequence_type is not null and x.sequence_type = g.sequence_type
      and x.number = (substring(r.ref from '-(\\d+)$'))::bigint
    where t.project_id = any(${[...projectIds]}::text[])
    order by t.project_id, t.task_id, r.ref`.execute(db);
  return rows;
}
