import { sql, type CompiledQuery, type Kysely } from 'kysely';

/**
 * The plan for sharding Crucible's PostgreSQL by project with Citus (docs/scaling.md): every
 * project-scoped table is distributed by `project_id` and co-located, so a project's tasks,
 * sequences, reservations and artifacts live on one shard and every hot query routes there;
 * the small tables every request reads are reference tables, copied to every node.
 */
export const shardingPlan = Object.freeze({
  distributionColumn: 'project_id',
  referenceTables: Object.freeze(['projects', 'api_keys']),
  colocatedTables: Object.freeze(['tasks', 'id_registry', 'id_reservations', 'id_retirements', 'artifacts']),
  /** Citus's default `citus.shard_count`. */
  shardCount: 32,
});

/** Why a query would not route to one shard (empty: it routes). */
export interface RoutingCheck {
  readonly routes: boolean;
  readonly tables: readonly string[];
  readonly problems: readonly string[];
}

const tableRef = /\b(from|join|update|into)\s+"([a-z_]+)"/gi;

/**
 * Whether a compiled query touches the distributed tables only through `project_id =
 * <projectId>`, so Citus routes it to the one shard holding that project (router execution):
 * every reference to a co-located table in a FROM, JOIN or UPDATE needs an equality predicate
 * on `project_id` bound to the project (`"project_id" = $n`, or `"alias"."project_id" = $n`),
 * and an INSERT must give `project_id` that value. A predicate bound to another value, or a
 * missing one, is a problem named in the answer. Reference tables route anywhere.
 *
 * @example
 * routesToOneShard(nextTaskQuery(db, { projectId: 'alpha' }, 'pending').compile(), 'alpha').routes; // true
 */
export function routesToOneShard(query: Pick<CompiledQuery, 'sql' | 'parameters'>, projectId: string): RoutingCheck {
  const distributed = new Set<string>(shardingPlan.colocatedTables);
  const refs = [...query.sql.matchAll(tableRef)].map((m) => ({ kind: (m[1] as string).toLowerCase(), table: m[2] as string, at: m.index ?? 0 })).filter((r) => distributed.has(r.table));
  const problems: string[] = [];
  const bound = (n: number) => query.parameters[n - 1] === projectId;
  const predicates = [...query.sql.matchAll(/(?:"[a-z_]+"\.)?"project_id"\s*=\s*\$(\d+)/g)].map((m) => Number(m[1]));
  for (const n of predicates) if (!bound(n)) problems.push(`"project_id" = $${n} is bound to ${JSON.stringify(query.parameters[n - 1])}, not the project`);
  const scoped = predicates.filter(bound).length;
  const reads = refs.filter((r) => r.kind !== 'into');
  if (scoped < reads.length) problems.push(`${reads.length} reference(s) to ${[...new Set(reads.map((r) => r.table))].join(', ')} but ${scoped} "project_id" = <project> predicate(s): a scan of every shard`);
  for (const insert of refs.filter((r) => r.kind === 'into')) {
    const cols = /^\s*\(([^)]*)\)\s*values\s*\(([^)]*)\)/i.exec(query.sql.slice(insert.at + `into "${insert.table}"`.length));
    const names = cols?.[1]?.split(',').map((c) => c.trim().replace(/"/g, '')) ?? [];
    const values = cols?.[2]?.split(',').map((v) => v.trim()) ?? [];
    const i = names.indexOf(shardingPlan.distributionColumn);
    const param = /^\$(\d+)$/.exec(values[i] ?? '');
    if (i < 0 || !param || !bound(Number(param[1]))) problems.push(`insert into ${insert.table} does not give project_id the project's value`);
  }
  return { routes: problems.length === 0, tables: [...new Set(refs.map((r) => r.table))], problems };
}

/** How the projects' load falls on K nodes: each node's share, the hottest, against a fair 1/K. */
export interface ShardSimulation {
  readonly nodes: number;
  readonly projects: number;
  readonly shares: readonly number[];
  readonly hottestShare: number;
  /** hottest share ÷ (1/K): 1 is perfectly even. */
  readonly hottestVsFair: number;
}

/**
 * Places each project on a shard by its hash as Citus does — the int32 hash space cut into
 * `shardCount` equal ranges — with shards spread round-robin over `nodes` workers, and sums
 * each project's load (its share of requests) per node.
 */
export function simulateShards(projects: readonly { readonly hash: number; readonly load: number }[], nodes: number, shardCount: number = shardingPlan.shardCount): ShardSimulation {
  const total = projects.reduce((a, p) => a + p.load, 0) || 1;
  const perNode = new Array<number>(nodes).fill(0);
  const width = 2 ** 32 / shardCount;
  for (const p of projects) {
    const shard = Math.min(shardCount - 1, Math.floor((p.hash + 2 ** 31) / width));
    perNode[shard % nodes] = (perNode[shard % nodes] as number) + p.load;
  }
  const shares = perNode.map((l) => Math.round((l / total) * 1000) / 1000);
  const hottestShare = Math.max(...shares);
  return { nodes, projects: projects.length, shares, hottestShare, hottestVsFair: Math.round(hottestShare * nodes * 100) / 100 };
}

/** PostgreSQL's `hashtext` of each id (the hash Citus applies to a text distribution column), from the server itself. */
export async function hashProjects<DB>(db: Kysely<DB>, ids: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await sql<{ id: string; hash: number }>`select id, hashtext(id) as hash from unnest(${[...ids]}::text[]) as id`.execute(db);
  return new Map(rows.map((r) => [r.id, Number(r.hash)]));
}
