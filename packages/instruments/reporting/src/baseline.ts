import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { collectFigures } from '@crucible/baseline';
import { InstrumentError } from '@crucible/instrument-kit';
import path from 'node:path';
import { baselineSchema, type Baseline, type BaselineComparison, type RunReport } from '@crucible/contracts';
import { currentCommit } from './metadata.js';

// The comparison is pure and lives in @crucible/baseline, where the metrics gateway uses it too.
export { bootstrapMedianDiff, collectFigures, compareFigures, compareWithBaseline, DEFAULT_FIGURES, type FigureSpec, type FigureValues } from '@crucible/baseline';

/** A baseline from one or more (repeated) runs of a suite. */
export function createBaseline(runs: readonly RunReport[], id?: string): Baseline {
  const first = runs[0];
  if (!first) throw new InstrumentError('baseline_invalid', 'a baseline needs at least one run report');
  return {
    schema_version: 1,
    id: id ?? `${first.run.suite}@${first.run.commit ?? currentCommit() ?? 'unknown'}`,
    created_at: new Date().toISOString(),
    commit: first.run.commit,
    suite: first.run.suite,
    runs: runs.length,
    figures: collectFigures(runs),
  };
}

/** Writes a baseline file (creating its directory). */
export async function saveBaseline(baseline: Baseline, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(baselineSchema.parse(baseline), null, 2) + '\n');
}

/** Reads and validates a baseline file. */
export async function loadBaseline(file: string): Promise<Baseline> {
  return baselineSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

/** The report (the last of the current runs, typically) with the comparison attached. */
export function withComparison(report: RunReport, comparison: BaselineComparison): RunReport {
  return { ...report, comparison };
}
