// What every step of the task-api scale suite shares: the replicas behind nginx, the
// projects and their keys. Each replica's own figures come from the testbed's
// replicaCounters (its /metrics).
import { InstrumentError } from '@crucible/instrument-kit';

/** What the steps share, built once the system is up. */
export interface ScaleContext {
  /** The nginx in front of every replica: where the load goes. */
  readonly balancedUrl: string;
  /** Every replica behind it, in the balancer's upstream order. */
  readonly replicaUrls: readonly string[];
  /** The projects the load speaks for, and their keys. */
  readonly projects: readonly string[];
  readonly keys: Readonly<Record<string, string>>;
}

/** `Authorization` header of a project's key. */
export function bearer(ctx: ScaleContext, project: string): { authorization: string } {
  const key = ctx.keys[project];
  if (!key) throw new InstrumentError('unknown_scenario', `no key for project ${project}`);
  return { authorization: `Bearer ${key}` };
}
