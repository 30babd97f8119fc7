import { buildScenarios, loadRunFile } from './scenarios.js';

/** What every segment of a `crucible run --workers N` gets (plain data: it crosses a process boundary). */
export interface WorkerParams {
  readonly file: string;
  readonly thresholds: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The scenarios one segment runs, for the load engine's `runParallel` (which imports this
 * module in each worker process): the scenario file's, built exactly as the parent built
 * them (it already refused a bad file, so this only repeats work that succeeded).
 */
export async function scenarios(params: WorkerParams): Promise<ReturnType<typeof buildScenarios>> {
  // A worker inherits the environment, but set `--env` again so a file that reads it at import agrees.
  Object.assign(process.env, params.env);
  return buildScenarios(await loadRunFile(params.file), params.thresholds);
}
