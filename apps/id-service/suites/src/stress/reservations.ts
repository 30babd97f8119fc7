// What every step of the id-service stress suite shares: project keys, and keyed
// reservations recorded through the suite kit's call recorder for the checkers.
import { randomUUID } from 'node:crypto';
import { checkIdIsolation, classifyOutcome, reconcileIds, type IdOperation } from '@crucible/checkers';
import { idRegistryResponseSchema, type Verdict } from '@crucible/contracts';
import { type Database, idEvidenceFromDb } from '@crucible/db';
import type { HttpClient, ScenarioResult } from '@crucible/load-engine';
import { send, withSql, type HttpCall, type SuiteKit } from '@crucible/suite-kit';
import { type Sut } from '@crucible/testbed';
import type { Kysely } from 'kysely';

/** What the steps share. */
export interface IdStressContext {
  readonly sut: Sut;
  /** One client with as many sockets as the largest burst. */
  readonly http: HttpClient;
  /** Each project's key, created on first use (concurrent first uses share one creation). */
  readonly keys: Map<string, Promise<string>>;
}

/** One keyed reservation: the call as recorded, and the operation for the ID checkers. */
export interface Reservation {
  readonly call: HttpCall;
  readonly op: IdOperation;
}

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

/** The key of `id`, creating the project on first use. */
export function project(ctx: IdStressContext, id: string): Promise<string> {
  let key = ctx.keys.get(id);
  if (!key) {
    key = ctx.sut.createProject(id).then(async ({ api_key }) => {
      // One call first, so the measured calls do not include the key's first verification.
      await send(ctx.http, { path: '/ids/registry', headers: auth(api_key) });
      return api_key;
    });
    ctx.keys.set(id, key);
  }
  return key;
}

/**
 * One reservation (`POST /ids/reserve` of `count`, or `GET /ids/next` when `count` is
 * omitted), keyed unless `keyed` is false, recorded for the checkers; `caller` names who made
 * it in the checkers' examples.
 */
export async function reserve(ctx: IdStressContext, projectId: string, type: string, count?: number, caller = 0, keyed = true): Promise<Reservation> {
  const key = await project(ctx, projectId);
  const idempotencyKey = keyed ? randomUUID() : undefined;
  const headers = { ...auth(key), ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }) };
  const call =
    count === undefined
      ? await send(ctx.http, { path: `/ids/next?type=${type}`, headers })
      : await send(ctx.http, { method: 'POST', path: '/ids/reserve', headers, body: { type, count } });
  const outcome = classifyOutcome(call);
  const body = call.body as { first?: number; last?: number; number?: number } | undefined;
  const first = count === undefined ? body?.number : body?.first;
  const last = count === undefined ? body?.number : body?.last;
  const op: IdOperation = {
    process: caller,
    project_id: projectId,
    type,
    count: count ?? 1,
    outcome,
    ...(idempotencyKey === undefined ? {} : { idempotency_key: idempotencyKey }),
    ...(outcome === 'ok' && first !== undefined && last !== undefined ? { first, last } : {}),
    ...(outcome !== 'ok' ? { error: call.code ?? String(call.status) } : {}),
  };
  return { call, op };
}

/** The IDs an answer handed out (`ids` of a reservation, `id` of a next). */
export function idsOf(r: Reservation): string[] {
  if (r.op.outcome !== 'ok') return [];
  const body = r.call.body as { ids?: string[]; id?: string } | undefined;
  return body?.ids ?? (body?.id ? [body.id] : []);
}

/** Sorts each answer's IDs, as it arrives, into ones not seen before in the scenario and ones seen again. */
export function idTally(): (ids: readonly string[]) => { fresh: number; repeated: number } {
  const seen = new Set<string>();
  return (ids) => {
    let fresh = 0;
    for (const id of ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      fresh++;
    }
    return { fresh, repeated: ids.length - fresh };
  };
}

/** The reservations a burst recorded, in call order. */
export function reservationsOf(result: ScenarioResult): Reservation[] {
  return [...result.outcomes].sort((a, b) => a.index - b.index).flatMap((o) => (o.value ? [o.value as Reservation] : []));
}

/** `last_assigned_id` of each of the project's sequences, as `GET /ids/registry` answers. */
export async function registryOf(ctx: IdStressContext, projectId: string): Promise<Record<string, number>> {
  const call = await send(ctx.http, { path: '/ids/registry', headers: auth(await project(ctx, projectId)) });
  return Object.fromEntries(idRegistryResponseSchema.parse(call.body).sequences.map((s) => [s.type, s.last_assigned_id]));
}

/**
 * The verdicts SQL decides, from one read of `id_registry` and `id_reservations`: every call
 * of `history` accounted for (`id-reconciliation`), and every answered ID drawn from its own
 * project's sequence (`api-isolation`).
 */
export async function sqlVerdicts(db: Kysely<Database>, history: readonly IdOperation[], projects: readonly string[]): Promise<Verdict[]> {
  const { registry, reservations } = await idEvidenceFromDb(db, projects);
  return [reconcileIds(history, registry, reservations).verdict, checkIdIsolation(history, registry)];
}

/** {@link sqlVerdicts} on the kit's database; against a target without one, both are `inconclusive: no database access`. */
export function kitSqlVerdicts(kit: SuiteKit, history: readonly IdOperation[], projects: readonly string[]): Promise<Verdict[]> {
  return withSql(kit, ['id-reconciliation', 'api-isolation'], (db) => sqlVerdicts(db, history, projects));
}
