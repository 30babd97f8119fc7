import { formatId, parseId, type IdState } from '@crucible/contracts';
import type { Database } from '@crucible/db';
import type { ProjectScope } from '@crucible/service-kit';
import { sql, type Kysely } from 'kysely';

// Whether an id was issued needs no row per id: numbers are handed out contiguously from 1,
// so TYPE-N was issued to a project exactly when N is at most that project's TYPE
// high-water mark in id_registry. Retirement is the one per-id fact, in id_retirements.
// Every query here is filtered on the caller's project: another project's sequence is never
// read, so its ids answer `unknown`, as never-issued ones do.

/** A well-formed id split into the columns it is stored under. */
interface IdParts {
  readonly id: string;
  readonly type: string;
  readonly number: number;
}

function partsOf(ids: readonly string[]): IdParts[] {
  return [...new Set(ids)].map((id) => {
    const p = parseId(id);
    // The contract admits only ids formatId renders; anything else is a caller's bug.
    if (!p || formatId(p.type, p.number) !== id) throw new TypeError(`${id} is not an id in TYPE-NNN form`);
    return { id, ...p };
  });
}

/** The statement {@link lookupIds} runs, for EXPLAIN: one pass over the asked ids, two index probes each. */
export function lookupIdsQuery(db: Kysely<Database>, scope: ProjectScope, ids: readonly string[]) {
  const parts = partsOf(ids);
  return db
    .selectFrom(
      sql<{ id: string; type: string; n: string; ord: string }>`unnest(${parts.map((p) => p.id)}::text[], ${parts.map((p) => p.type)}::text[], ${parts.map((p) => p.number)}::bigint[]) with ordinality`.as(
        sql`v(id, type, n, ord)` as unknown as 'v',
      ),
    )
    .leftJoin('id_registry as r', (j) => j.on('r.project_id', '=', scope.projectId).onRef('r.sequence_type', '=', sql.ref('v.type')))
    .leftJoin('id_retirements as x', (j) =>
      j.on('x.project_id', '=', scope.projectId).onRef('x.sequence_type', '=', sql.ref('v.type')).onRef('x.number', '=', sql.ref('v.n')),
    )
    .select([
      sql<string>`v.id`.as('id'),
      sql<IdState>`case when x.number is not null then 'retired' when r.last_assigned_id >= v.n then 'issued' else 'unknown' end`.as('state'),
    ])
    .orderBy(sql`v.ord`);
}

/**
 * The state of each distinct id of `ids` for the scope's project, in the order first asked:
 * `issued`, `retired` (issued, then retired) or `unknown` (never issued to this project).
 *
 * @example
 * await lookupIds(db, { projectId: 'alpha' }, ['US-001', 'US-999']);
 * // [{ id: 'US-001', state: 'issued' }, { id: 'US-999', state: 'unknown' }]
 */
export async function lookupIds(db: Kysely<Database>, scope: ProjectScope, ids: readonly string[]): Promise<{ id: string; state: IdState }[]> {
  return lookupIdsQuery(db, scope, ids).execute();
}

/** A retirement as stored. */
export interface Retirement {
  readonly id: string;
  readonly retiredAt: Date;
}

/**
 * Retires `id` in the scope's project, if it was issued to it: one statement that inserts
 * the retirement only when the number is within the project's sequence, and answers the
 * stored row either way (a second retirement keeps the first `retired_at`).
 * `undefined` when the id was never issued to this project.
 */
export async function retireId(db: Kysely<Database>, scope: ProjectScope, id: string): Promise<Retirement | undefined> {
  // Two concurrent retirements of one id: the loser's insert waits, does nothing, and its
  // statement's snapshot predates the winner's row; a second statement sees it.
  for (let attempt = 0; attempt < 2; attempt++) {
    const row = await retireOnce(db, scope, id);
    if (row) return row;
  }
  return undefined;
}

async function retireOnce(db: Kysely<Database>, scope: ProjectScope, id: string): Promise<Retirement | undefined> {
  const [p] = partsOf([id]) as [IdParts];
  const { rows } = await sql<{ retired_at: Date }>`
    with issued as (
      select 1 from id_registry
      where project_id = ${scope.projectId} and sequence_type = ${p.type} and last_assigned_id >= ${p.number}
    ), ins as (
      insert into id_retirements (project_id, sequence_type, number)
      select ${scope.projectId}, ${p.type}, ${p.number} from issued
      on conflict (project_id, sequence_type, number) do nothing
      returning retired_at
    )
    select retired_at from ins
    union all
    select retired_at from id_retirements
    where project_id = ${scope.projectId} and sequence_type = ${p.type} and number = ${p.number}
    limit 1`.execute(db);
  const row = rows[0];
  return row ? { id, retiredAt: row.retired_at } : undefined;
}
