// The task-api stress suite's entity-reference verdicts, shown failing on a real task-api that
// stores refs without asking the ID service (failpoint tasks.refs.unchecked, armed through
// CRUCIBLE_FAILPOINTS on a replica of its own), and passing on the clean system: the suite's
// own step, sized to seconds, on the real ID service and PostgreSQL, with projects of its own.
import type { ScenarioReport, Verdict } from '@crucible/contracts';
import { correctnessFailures, openStepRunner, type StepRunner } from '@crucible/suite-kit/testing';
import { startSut, type Sut } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Replicas, StressContext } from './stress/context.js';
import { caseSystem } from './stress/defects.testing.js';
import { refIsolation } from './stress/refs.js';

let sut: Sut;
let steps: StepRunner;
beforeAll(async () => {
  // The task API needs the ID service: the testbed starts it too (crucible.needs).
  sut = await startSut({ server: testServer(), apps: ['task-api'], env: { LOG_LEVEL: 'silent' } });
  steps = openStepRunner(sut);
});
afterAll(async () => {
  await steps?.close();
  await sut?.stop();
});

/** Five fresh projects named after the case, with their keys. */
async function contextFor(system: { readonly replicas: Replicas }, name: string): Promise<StressContext> {
  const projects = ['a', 'b', 'c', 'd', 'e'].map((p) => `${name}-${p}`);
  const keys: Record<string, string> = {};
  for (const p of projects) keys[p] = (await sut.createProject(p)).api_key;
  return { projects, keys, replicas: system.replicas, seeded: {} };
}

async function run(ctx: StressContext): Promise<{ rows: ScenarioReport[]; v: Record<string, Verdict> }> {
  const rows = await steps.run(refsRun, ctx);
  return { rows, v: Object.fromEntries(rows.flatMap((r) => r.verdicts).map((v) => [v.checker, v])) };
}

// 10 of each kind per project: 50 own creates, 50 creates and 10 PATCHes with another
// project's id, 10 with never-issued ids (a 120-request burst).
const refsRun = refIsolation({ perProject: 10 });

describe('the clean task-api: ref-isolation and ref-isolation:sql pass', () => {
  const system = caseSystem(() => sut);
  beforeAll(() => system.start());
  afterAll(() => system.close());

  it('accepts every own ref, refuses every foreign and never-issued one naming it, and stores only issued refs', async () => {
    const { rows, v } = await run(await contextFor(system, 'clean-refs'));
    expect(correctnessFailures(rows)).toEqual([]);
    expect(v['ref-isolation']?.status, v['ref-isolation']?.summary).toBe('pass');
    expect(v['ref-isolation']?.counts).toMatchObject({ own_attempts: 50, own_accepted: 50, foreign_attempts: 60, foreign_accepted: 0, unissued_attempts: 10, unissued_accepted: 0, refused_unnamed: 0 });
    expect(v['ref-isolation:sql']?.status, v['ref-isolation:sql']?.summary).toBe('pass');
    // The 50 own tasks hold two refs each; the PATCHes changed none.
    expect(v['ref-isolation:sql']?.counts).toMatchObject({ stored_refs: 100, unissued_stored: 0 });
  });
});

describe('tasks.refs.unchecked: POST /tasks and PATCH now and then store refs without asking the ID service', () => {
  // 60 writes carry another project's id: at 20 % per write, P(it never fires on one) = 0.8^60
  // ≈ 1.5e-6 (at 10 %, 0.9^60 ≈ 2e-3 would flake).
  const system = caseSystem(() => sut, 'tasks.refs.unchecked=0.2');
  beforeAll(() => system.start());
  afterAll(() => system.close());

  it("ref-isolation fails naming another project's id accepted, and ref-isolation:sql finds it stored", async () => {
    const ctx = await contextFor(system, 'unchecked-refs');
    const { v } = await run(ctx);
    const verdict = v['ref-isolation'];
    expect(verdict?.status).toBe('fail');
    expect(verdict?.counts['foreign_accepted']).toBeGreaterThan(0);
    // The planted defect skips checks; it refuses nothing: every own write still lands.
    expect(verdict?.summary).toMatch(/^50 of 50 writes with the project's own refs accepted; [1-9]\d* of 60 writes with another project's id accepted; \d+ of 10 with a never-issued id accepted/);
    const example = verdict?.examples.find((e) => (e as { kind: string }).kind === 'foreign_accepted') as { asking_project: string; ref: string; issued_to: string };
    expect(ctx.projects).toContain(example.issued_to);
    expect(example.issued_to).not.toBe(example.asking_project);
    // The id is of the owner's own sequence type (REF<index of the owner>).
    expect(example.ref.startsWith(`REF${ctx.projects.indexOf(example.issued_to)}-`)).toBe(true);
    const sql = v['ref-isolation:sql'];
    expect(sql?.status).toBe('fail');
    expect(sql?.counts['unissued_stored']).toBeGreaterThan(0);
    expect(sql?.summary).toMatch(/; [1-9]\d* of them never issued to the task's project$/);
  });
});
