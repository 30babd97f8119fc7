// Entity-reference isolation: the projects reference their own issued ids and try each
// other's, through the task API, which must ask the ID service per project.
import { expectVerdict } from '@crucible/checkers';
import { formatId, type Verdict } from '@crucible/contracts';
import { storedRefsFromDb } from '@crucible/db';
import { burst, scenario, type ScenarioResult } from '@crucible/load-engine';
import type { SuiteKit, SuiteStep } from '@crucible/suite-kit';
import { bearer, codeOf, keptValues, requestAs, type StressContext } from './context.js';

/** What one request tries: refs of the project's own, another project's, or ids never issued. */
type Kind = 'own' | 'foreign' | 'unissued' | 'foreign-patch';

interface Op {
  readonly kind: Kind;
  readonly p: string;
  readonly taskId: string;
  readonly refs: readonly string[];
  /** The ref that must be refused (and named), for every kind but `own`. */
  readonly bad?: string;
  /** The project that was issued `bad` (foreign kinds). */
  readonly owner?: string;
}

interface Answer {
  readonly op: Op;
  readonly status: number;
  readonly code: string | undefined;
  readonly body: string;
}

/** How many requests of each kind a project sends (the suite's shape by default). */
export interface RefIsolationOptions {
  /** Creates with own refs, and creates with a foreign ref, per project (default 20). */
  readonly perProject?: number;
}

// A sequence type of each project's own, so an id of one project is nobody else's.
const typeOf = (i: number) => `REF${i}`;

/**
 * The projects create tasks that reference ids the ID service issued to them (each must be
 * accepted), tasks that also reference another project's issued id, tasks with ids never
 * issued, and PATCHes of their own tasks to another project's id (each must be a 422 naming
 * the bad id). `ref-isolation` fails on any foreign or never-issued ref accepted, own ref
 * refused, or refusal that does not name the id; `ref-isolation:sql` reads every stored ref
 * back from the tables and fails on any the task's project was never issued.
 */
export function refIsolation(options: RefIsolationOptions = {}): SuiteStep<StressContext> {
  const perProject = options.perProject ?? 20;
  // Own writes name two distinct ids of the project's own: it needs at least two.
  if (!Number.isInteger(perProject) || perProject < 2) throw new RangeError(`perProject must be a whole number of at least 2, not ${perProject}`);
  return { name: 'entity-reference isolation', run: (ctx, kit) => runRefs(ctx, kit, perProject) };
}

/** The suite's step: 20 of each kind per project. */
export const refs: SuiteStep<StressContext> = refIsolation();

async function runRefs(ctx: StressContext, kit: SuiteKit, perProject: number): Promise<ScenarioResult> {
  const n = ctx.projects.length;
  // Issued before the load, straight by the ID service: perProject ids of its own type each.
  await Promise.all(ctx.projects.map((p, i) => reserve(kit, ctx.keys[p] as string, typeOf(i), perProject)));
  const own = (i: number, k: number) => formatId(typeOf(i), (k % perProject) + 1);
  const quarter = Math.max(1, Math.floor(perProject / 4));
  const ops: Op[] = ctx.projects.flatMap((p, i) => {
    const other = (k: number) => (i + 1 + (k % (n - 1))) % n;
    return [
      ...Array.from({ length: perProject }, (_, k): Op => ({ kind: 'own', p, taskId: `refs-${p}-own-${k}`, refs: [own(i, k), own(i, k + 1)] })),
      ...Array.from({ length: perProject }, (_, k): Op => {
        const j = other(k);
        return { kind: 'foreign', p, taskId: `refs-${p}-foreign-${k}`, refs: [own(i, k), own(j, k)], bad: own(j, k), owner: ctx.projects[j] as string };
      }),
      ...Array.from({ length: quarter }, (_, k): Op => {
        const bad = formatId(typeOf(i), perProject + 1 + k);
        return { kind: 'unissued', p, taskId: `refs-${p}-unissued-${k}`, refs: [bad], bad };
      }),
      ...Array.from({ length: quarter }, (_, k): Op => {
        const j = other(k + 1);
        return { kind: 'foreign-patch', p, taskId: `refs-${p}-own-${k}`, refs: [own(j, k + 3)], bad: own(j, k + 3), owner: ctx.projects[j] as string };
      }),
    ];
  });
  // PATCHes wait for the creates of the tasks they change, inside the same burst.
  const creates = ops.filter((o) => o.kind === 'own').length;
  let ownDone!: () => void;
  const ownCreated = new Promise<void>((r) => (ownDone = r));
  let created = 0;
  const result = await kit.runOne(
    scenario({
      name: `entity-reference isolation across ${n} projects`,
      executor: burst({ requests: ops.length }),
      thresholds: ['rate==0'],
      request: async (it): Promise<Answer> => {
        const op = ops[it.iteration] as Op;
        if (op.kind === 'foreign-patch') await ownCreated;
        const res = await requestAs(
          ctx,
          it.iteration,
          op.p,
          op.kind === 'foreign-patch'
            ? { method: 'PATCH', path: `/tasks/${op.taskId}`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refs: op.refs }) }
            : { method: 'POST', path: '/tasks', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task_id: op.taskId, title: `${op.kind} refs`, refs: op.refs }) },
        );
        if (op.kind === 'own' && ++created === creates) ownDone();
        return { op, status: res.status, code: codeOf(res), body: res.body };
      },
      isSuccess: (a) => (a.op.kind === 'own' ? a.status === 201 : a.status === 422 && a.code === 'ref_not_issued'),
    }),
  );
  result.verdicts.push(judgeAnswers(keptValues<Answer>(result), ops), await judgeStored(kit, ctx.projects));
  return result;
}

async function reserve(kit: SuiteKit, key: string, type: string, count: number): Promise<void> {
  const res = await fetch(`${kit.sut.url('id-service')}/ids/reserve`, {
    method: 'POST',
    headers: { ...bearer(key), 'content-type': 'application/json' },
    body: JSON.stringify({ type, count }),
  });
  if (res.status !== 200) throw new Error(`the ID service refused to reserve ${count} ${type}: ${res.status} ${await res.text()}`);
}

/** The API's answers: own refs accepted, every foreign or never-issued one refused naming it. */
function judgeAnswers(answers: readonly Answer[], ops: readonly Op[]): Verdict {
  const attempts = { own: 0, foreign: 0, unissued: 0 };
  const counts = { own_accepted: 0, own_refused: 0, foreign_accepted: 0, unissued_accepted: 0, refused_unnamed: 0 };
  const examples: unknown[] = [];
  const example = (e: object) => void (examples.length < 10 && examples.push(e));
  for (const op of ops) attempts[op.kind === 'foreign-patch' ? 'foreign' : op.kind]++;
  for (const { op, status, code, body } of answers) {
    const accepted = status === 200 || status === 201;
    if (op.kind === 'own') {
      if (accepted) counts.own_accepted++;
      else {
        counts.own_refused++;
        example({ kind: 'own_refused', asking_project: op.p, refs: op.refs, status, code });
      }
    } else if (accepted) {
      counts[op.kind === 'unissued' ? 'unissued_accepted' : 'foreign_accepted']++;
      example({ kind: op.kind === 'unissued' ? 'unissued_accepted' : 'foreign_accepted', op: op.kind, asking_project: op.p, ref: op.bad, issued_to: op.owner ?? null, task_id: op.taskId, status });
    } else if (!(status === 422 && code === 'ref_not_issued' && body.includes(op.bad as string))) {
      counts.refused_unnamed++;
      example({ kind: 'refused_unnamed', asking_project: op.p, ref: op.bad, status, code });
    }
  }
  const passed = counts.own_accepted === attempts.own && counts.foreign_accepted === 0 && counts.unissued_accepted === 0 && counts.refused_unnamed === 0;
  return expectVerdict(
    'ref-isolation',
    passed,
    `${counts.own_accepted} of ${attempts.own} writes with the project's own refs accepted; ${counts.foreign_accepted} of ${attempts.foreign} writes with another project's id accepted; ${counts.unissued_accepted} of ${attempts.unissued} with a never-issued id accepted; ${counts.refused_unnamed} refusals not a 422 ref_not_issued naming the id`,
    { own_attempts: attempts.own, foreign_attempts: attempts.foreign, unissued_attempts: attempts.unissued, ...counts },
    examples,
  );
}

/** The tables: every stored ref of the projects' tasks was issued to the task's own project. */
async function judgeStored(kit: SuiteKit, projects: readonly string[]): Promise<Verdict> {
  const stored = await storedRefsFromDb(kit.db, projects);
  const bad = stored.filter((r) => r.state === 'unknown');
  return expectVerdict(
    'ref-isolation:sql',
    stored.length > 0 && bad.length === 0,
    `${stored.length} refs stored on the projects' tasks; ${bad.length} of them never issued to the task's project`,
    { stored_refs: stored.length, unissued_stored: bad.length },
    bad.slice(0, 10).map((r) => ({ kind: 'unissued_stored', ...r })),
  );
}
