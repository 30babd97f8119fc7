import type { StepRecord } from '@crucible/chaos';
import type { Verdict } from '@crucible/contracts';
import { expectVerdict } from '@crucible/checkers';
import type { AppLogEvent } from '@crucible/testbed';
import type { ResilienceContext } from './workload.js';

/** Slack for two clocks of one machine (the app's `Date.now` and the client's), ms. */
export const clockSlackMs = 20;

/** Which pair of log events records an outage, and how soon each must follow the fault. */
export interface OutageLogSpec {
  /** The verdict's name, e.g. `db-log-events`. */
  readonly checker: string;
  /** The detection and recovery events, e.g. `db_unreachable` / `db_recovered`. */
  readonly down: string;
  readonly up: string;
  /** What was out, for the messages: `the database`, `id-service`. */
  readonly subject: string;
  /** Only these events count (e.g. those naming the dependency); default every event. */
  readonly match?: (e: AppLogEvent) => boolean;
  /** The detection no later than this after the fault took effect (default: while it acted). */
  readonly detectWithinMs?: number;
  /** The recovery no later than this after the fault was removed. */
  readonly recoverWithinMs: number;
}

/** What the log says of one fault: its two events (if found), what is wrong, and the figures. */
export interface OutageLogEvidence {
  readonly down: AppLogEvent | undefined;
  readonly up: AppLogEvent | undefined;
  readonly events: readonly AppLogEvent[];
  readonly problems: string[];
  readonly counts: Record<string, number>;
}

/**
 * The app's log as evidence of one fault: the detection event while the fault acted (and
 * within `detectWithinMs` of it), then the recovery event after its removal, within
 * `recoverWithinMs`, in that order. A missing, late or out-of-order event is a problem.
 */
export function outageLogEvidence(events: readonly AppLogEvent[], step: StepRecord, spec: OutageLogSpec): OutageLogEvidence {
  const from = step.appliedAt as number;
  const to = step.removedAt as number;
  const mine = spec.match ? events.filter(spec.match) : events;
  const down = mine.find((e) => e.event === spec.down && e.at >= from - clockSlackMs && e.at <= to + clockSlackMs);
  const up = mine.find((e) => e.event === spec.up && e.at >= to - clockSlackMs && (down === undefined || e.at >= down.at));
  const late = (e: AppLogEvent | undefined, since: number, within: number | undefined) => e !== undefined && within !== undefined && e.at - since > within + clockSlackMs;
  const problems = [
    ...(down ? [] : [`no ${spec.down} for ${spec.subject} while the fault acted`]),
    ...(late(down, from, spec.detectWithinMs) ? [`${spec.down} logged ${Math.round((down as AppLogEvent).at - from)} ms into the fault (more than ${spec.detectWithinMs} ms)`] : []),
    ...(up ? [] : [`no ${spec.up} for ${spec.subject} after the fault was removed`]),
    ...(late(up, to, spec.recoverWithinMs) ? [`${spec.up} logged ${Math.round((up as AppLogEvent).at - to)} ms after the removal (more than ${spec.recoverWithinMs} ms)`] : []),
  ];
  const counts = {
    events: mine.length,
    ...(down ? { down_after_fault_ms: Math.round(down.at - from) } : {}),
    ...(up ? { up_after_removal_ms: Math.round(up.at - to) } : {}),
    ...(typeof up?.fields['outage_ms'] === 'number' ? { logged_outage_ms: up.fields['outage_ms'] } : {}),
  };
  return { down, up, events: mine, problems, counts };
}

/** The verdict of {@link outageLogEvidence}, with `extra` problems the caller found beside it. */
export function outageLogVerdict(evidence: OutageLogEvidence, spec: OutageLogSpec, extra: readonly string[] = []): Verdict {
  const problems = [...evidence.problems, ...extra];
  const { counts } = evidence;
  return expectVerdict(
    spec.checker,
    problems.length === 0,
    problems.length === 0
      ? `${spec.down} ${counts['down_after_fault_ms']} ms into the fault, ${spec.up} ${counts['up_after_removal_ms']} ms after its removal, in order`
      : problems.join('; '),
    counts,
    problems.length === 0 ? [] : evidence.events.slice(-6).map((e) => ({ event: e.event, at: new Date(e.at).toISOString() })),
  );
}

/** The database outage as the app logged it: `db_unreachable` within 1 s of the fault, `db_recovered` within 1 s of its removal. */
export const databaseLogSpec: OutageLogSpec = Object.freeze({
  checker: 'db-log-events',
  down: 'db_unreachable',
  up: 'db_recovered',
  subject: 'the database',
  detectWithinMs: 1000,
  recoverWithinMs: 1000,
});

/** {@link outageLogVerdict} of one database fault. */
export function databaseLogVerdict(events: readonly AppLogEvent[], step: StepRecord): Verdict {
  return outageLogVerdict(outageLogEvidence(events, step, databaseLogSpec), databaseLogSpec);
}

/** The log of the replica the step's load drove (its structured events, as the testbed read them so far). */
export function replicaEvents(ctx: ResilienceContext): readonly AppLogEvent[] {
  const replica = Object.values(ctx.sut.apps).flat().find((a) => a.url === ctx.url);
  return replica?.events() ?? [];
}
