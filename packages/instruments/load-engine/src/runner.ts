import type { RunResult } from './result.js';
import { openSession, scenarioList, type Scenarios, type SessionOptions, type SessionRunOptions } from './session.js';

/** Options of {@link run}: a session's options and one run's. */
export type RunOptions = SessionOptions & Pick<SessionRunOptions, 'sequential'>;

/**
 * Runs scenarios once (together, or one after another with `sequential`) and returns what
 * they measured: a session of one run, whose sinks are attached before the start and closed
 * after the end. Events go to `options.events` and to the sinks; the engine never prints.
 * To keep sinks open across several runs, use {@link openSession}.
 *
 * @example
 * const result = await run([reserve], { baseUrl: sut.url('id-service'), sinks: [consoleSink()] });
 * const report = buildReport(result, { suite: 'id-service stress' }); // from @crucible/reporting
 */
export async function run(scenarios: Scenarios, options: RunOptions = {}): Promise<RunResult> {
  // Refuse duplicate names before any sink is attached (an NDJSON sink creates its file then).
  const list = scenarioList(scenarios);
  const session = openSession(options);
  try {
    return await session.run(list, options.sequential ? { sequential: true } : {});
  } finally {
    await session.close();
  }
}
