// Suites against a deployed system (`--target FILE`): the system comes from the file instead
// of being started, and its database only when a URL for it is given. Without one, every
// verdict that needs SQL is `indeterminate` ("inconclusive: no database access"), never a
// pass, so a run without SQL access can only end inconclusive (exit 4) or failed.
import type { ScenarioReport, Verdict } from '@crucible/contracts';
import { createDb, createPool, type Database } from '@crucible/db';
import { InstrumentError, isInstrumentError } from '@crucible/instrument-kit';
import { connectSut, readSutTarget, type Sut } from '@crucible/testbed';
import type { Kysely } from 'kysely';
import { checksScenario } from './calls.js';

// What a command needs to read a target file before it starts a suite on it.
export { readSutTarget, targetApps, type SutTarget } from '@crucible/testbed';

/** The summary every SQL-less verdict carries (reports and tests look for it). */
export const NO_DATABASE = 'inconclusive: no database access';

/** The deployed system of `--target FILE`, and its database when `DATABASE_URL` (or the file's `database_url`) names one. */
export interface TargetSystem {
  readonly sut: Sut;
  /** Where the database URL came from, or `none`. */
  readonly sqlFrom: 'DATABASE_URL' | 'database_url' | 'none';
  /** A direct connection for seeding and SQL evidence; `undefined` without database access. */
  readonly sql: Kysely<Database> | undefined;
}

/**
 * Connects to the system a target file describes (`@crucible/testbed`'s `connectSut`), checking
 * it has every app the suite needs (a missing one throws `bad_argument` naming it). `DATABASE_URL`
 * beats the file's `database_url`.
 */
export function connectTarget(file: string, apps: readonly string[], env: NodeJS.ProcessEnv): TargetSystem {
  const target = readSutTarget(file);
  const fromEnv = env['DATABASE_URL'] || undefined;
  const databaseUrl = fromEnv ?? target['database_url'];
  const sut = connectSut(target, { databaseUrl: databaseUrl ?? null });
  const missing = apps.filter((a) => !(a in sut.apps));
  if (missing.length > 0) {
    throw new InstrumentError('bad_argument', `--target ${file} has no ${missing.map((a) => `${a.replaceAll('-', '_')}_url`).join(', ')}: this suite drives ${apps.join(', ')}`);
  }
  return {
    sut,
    sqlFrom: fromEnv ? 'DATABASE_URL' : databaseUrl ? 'database_url' : 'none',
    sql: databaseUrl ? createDb(createPool({ connectionString: databaseUrl, max: 4 })) : undefined,
  };
}

/**
 * A stand-in for `kit.db` without database access: any use of it throws `no_database`, which
 * the kit turns into an inconclusive row for the step (see {@link noDatabaseReport}), so a step
 * written for SQL never crashes the run nor passes without its evidence.
 */
export function absentDatabase(): Kysely<Database> {
  return new Proxy({} as Kysely<Database>, {
    get(_target, property) {
      throw new InstrumentError('no_database', `${NO_DATABASE} (it reads kit.db.${String(property)}; set DATABASE_URL to the target's database)`);
    },
  });
}

/** A verdict that could not be decided for want of SQL: `indeterminate`, naming the checker. */
export function noDatabaseVerdict(checker: string, what = 'needs SQL'): Verdict {
  return { checker, status: 'indeterminate', summary: `${NO_DATABASE}: ${checker} ${what} (set DATABASE_URL to the target's database)`, counts: {}, examples: [] };
}

/**
 * The verdicts `read` decides from the database, or, without database access, one
 * {@link noDatabaseVerdict} per checker it would have returned (so the report names them).
 *
 * @example
 * result.verdicts.push(...(await withSql(kit, ['sql-isolation'], async (db) => [await checkSqlIsolation(db, input)])));
 */
export async function withSql(kit: { readonly sql: Kysely<Database> | undefined }, checkers: readonly string[], read: (db: Kysely<Database>) => Promise<Verdict[]>): Promise<Verdict[]> {
  return kit.sql ? read(kit.sql) : checkers.map((c) => noDatabaseVerdict(c));
}

/** @internal A step that touched `kit.db` without database access, as one inconclusive row. */
export function noDatabaseReport(step: string, err: unknown, startedAt: Date): ScenarioReport | undefined {
  if (!isInstrumentError(err, 'no_database')) return undefined;
  const durationS = (Date.now() - startedAt.getTime()) / 1000;
  const why = err.message.startsWith(NO_DATABASE) ? err.message.slice(NO_DATABASE.length) : ` (${err.message})`;
  const verdict: Verdict = { checker: 'sql-evidence', status: 'indeterminate', summary: `${NO_DATABASE}: the step "${step}" needs SQL${why}`, counts: {}, examples: [] };
  return checksScenario(step, { verdicts: [verdict], startedAt, durationS });
}

/**
 * The steps `--step NAME …` asks for (each name matches the steps containing it, case
 * insensitively); a name that matches none throws `bad_argument` listing the suite's steps.
 */
export function selectSteps<S extends { readonly name: string }>(steps: readonly S[], wanted: readonly string[] | undefined): readonly S[] {
  if (!wanted?.length) return steps;
  const matches = (s: S, w: string) => s.name.toLowerCase().includes(w.toLowerCase());
  const unknown = wanted.filter((w) => !steps.some((s) => matches(s, w)));
  if (unknown.length > 0) throw new InstrumentError('bad_argument', `--step "${unknown.join('", "')}" matches no step; the steps are: ${steps.map((s) => s.name).join('; ')}`);
  return steps.filter((s) => wanted.some((w) => matches(s, w)));
}
