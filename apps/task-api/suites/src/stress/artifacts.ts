// Artifact isolation: the projects store the same ids with different bytes, and ids of their own.
import { createHash } from 'node:crypto';
import { checkApiLeakage, checkSqlIsolation, type ApiObservation } from '@crucible/checkers';
import { burst, scenario, type ScenarioResult } from '@crucible/load-engine';
import { expectVerdict } from '@crucible/checkers';
import type { SuiteKit, SuiteStep } from '@crucible/suite-kit';
import { keptValues, requestAs, type StressContext } from './context.js';

interface Op {
  readonly kind: 'put' | 'get';
  /** The project whose key sends it. */
  readonly p: string;
  readonly id: string;
  /** A read of an id only another project holds. */
  readonly foreign: boolean;
}

interface Answer {
  readonly op: Op;
  readonly status: number;
  readonly body: string;
}

const shared = ['design.md', 'notes.txt', 'plan.json'];
// The suite's one own id keeps its old name; a larger shape numbers the rest.
const ownOnly = (p: string, k: number) => (k === 0 ? `only-${p}.bin` : `only-${p}-${k}.bin`);
const content = (p: string, id: string) => `artifact ${id} of project ${p}: ${createHash('sha256').update(p + id).digest('hex')}`;

/** How the artifact step runs (the suite's shape by default). */
export interface ArtifactIsolationOptions {
  /**
   * Artifacts each project alone holds (default 1). Every project reads every other
   * project's, so a planted-defect test sizes its run by this: 5 projects with 10 each make
   * 50 writes of ids one project holds and 200 reads of another project's.
   */
  readonly ownIds?: number;
}

/**
 * The projects store artifacts under the same ids with different bytes, and ids of their
 * own, then read them back: each reads its own bytes, ids only another project holds are
 * 404, and SQL holds exactly the artifacts each project read back through the API (its
 * own, and none another project wrote).
 */
export function artifactIsolation(options: ArtifactIsolationOptions = {}): SuiteStep<StressContext> {
  const ownIds = Array.from({ length: options.ownIds ?? 1 }, (_, k) => k);
  const idsOf = (p: string) => [...shared, ...ownIds.map((k) => ownOnly(p, k))];
  return { name: 'artifact isolation', run: (ctx, kit) => runArtifacts(ctx, kit, idsOf, (q) => ownIds.map((k) => ownOnly(q, k))) };
}

/** The suite's artifact step: the five projects, one id of their own each. */
export const artifacts: SuiteStep<StressContext> = artifactIsolation();

async function runArtifacts(ctx: StressContext, kit: SuiteKit, idsOf: (p: string) => string[], ownOf: (p: string) => string[]): Promise<ScenarioResult> {
  const writes: Op[] = ctx.projects.flatMap((p) => idsOf(p).map((id) => ({ kind: 'put' as const, p, id, foreign: false })));
  const reads: Op[] = ctx.projects.flatMap((p) => [
    ...idsOf(p).map((id) => ({ kind: 'get' as const, p, id, foreign: false })),
    ...ctx.projects.filter((q) => q !== p).flatMap((q) => ownOf(q).map((id) => ({ kind: 'get' as const, p, id, foreign: true }))),
  ]);
  const ops = [...writes, ...reads];
  // Reads wait for every write, inside the same burst.
  let writesDone!: () => void;
  const allWritten = new Promise<void>((r) => (writesDone = r));
  let written = 0;
  const result = await kit.runOne(
    scenario({
      name: `artifact isolation across ${ctx.projects.length} projects`,
      executor: burst({ requests: ops.length }),
      thresholds: ['rate==0'],
      request: async (it): Promise<Answer> => {
        const op = ops[it.iteration] as Op;
        if (op.kind === 'get') await allWritten;
        const res = await requestAs(
          ctx,
          it.iteration,
          op.p,
          op.kind === 'put' ? { method: 'PUT', path: `/artifacts/${op.id}`, headers: { 'content-type': 'text/plain' }, body: content(op.p, op.id) } : { path: `/artifacts/${op.id}` },
        );
        if (op.kind === 'put' && ++written === writes.length) writesDone();
        return { op, status: res.status, body: res.body };
      },
      isSuccess: (a) => (a.op.kind === 'put' ? a.status === 201 || a.status === 200 : a.op.foreign ? a.status === 404 : a.status === 200),
    }),
  );
  let own = 0;
  let wrongBytes = 0;
  let ownMissing = 0;
  let foreignVisible = 0;
  const observations: ApiObservation[] = [];
  const examples: unknown[] = [];
  // What the API answered, not what was meant: ids each project read back (200), ids it stored (201/200).
  const listed: Record<string, string[]> = Object.fromEntries(ctx.projects.map((p) => [p, []]));
  const stored: Record<string, string[]> = Object.fromEntries(ctx.projects.map((p) => [p, []]));
  for (const a of keptValues<Answer>(result)) {
    if (a.status === 200 || (a.op.kind === 'put' && a.status === 201)) (a.op.kind === 'get' ? listed : stored)[a.op.p]?.push(a.op.id);
    if (a.op.kind === 'put') {
      const meta = JSON.parse(a.body) as { project_id?: string };
      observations.push({ asking_project: a.op.p, endpoint: 'PUT /artifacts/:id', status: a.status, items: [{ project_id: meta.project_id }] });
    } else if (a.op.foreign) {
      if (a.status === 404) continue;
      foreignVisible++;
      if (examples.length < 10) examples.push({ kind: 'foreign_visible', asking_project: a.op.p, artifact_id: a.op.id, status: a.status });
    } else if (a.body === content(a.op.p, a.op.id)) own++;
    else if (a.status !== 200) {
      // Its own artifact not found (or refused): a write gone elsewhere, not someone else's bytes.
      ownMissing++;
      if (examples.length < 10) examples.push({ kind: 'own_missing', asking_project: a.op.p, artifact_id: a.op.id, status: a.status });
    } else {
      wrongBytes++;
      if (examples.length < 10) examples.push({ kind: 'wrong_bytes', asking_project: a.op.p, artifact_id: a.op.id, got: a.body.slice(0, 80) });
    }
  }
  const foreignReads = reads.length - writes.length;
  result.verdicts.push(
    expectVerdict(
      'artifact-isolation',
      wrongBytes === 0 && foreignVisible === 0 && own === writes.length,
      `${own} of ${writes.length} reads returned the project's own bytes; ${wrongBytes} returned other bytes; ${ownMissing} found none (not 200); ${foreignVisible} of ${foreignReads} reads of another project's artifact were not 404`,
      { writes: writes.length, own_reads: own, wrong_bytes: wrongBytes, own_missing: ownMissing, foreign_reads: foreignReads, foreign_visible: foreignVisible },
      examples,
    ),
    checkApiLeakage(observations),
    await checkSqlIsolation(kit.db, { table: 'artifacts', listed, complete: true, written: stored }),
  );
  return result;
}
