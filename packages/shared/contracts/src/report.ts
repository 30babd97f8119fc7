import { z } from 'zod';

/** Latency percentiles in milliseconds. */
export const latencySummarySchema = z.object({
  p50: z.number(),
  p90: z.number(),
  p95: z.number(),
  p99: z.number(),
  p999: z.number(),
  max: z.number(),
  mean: z.number(),
  min: z.number(),
});
export type LatencySummary = z.infer<typeof latencySummarySchema>;

/** One second of a scenario. */
export const seriesPointSchema = z.object({
  t: z.number().describe('seconds since the scenario started'),
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  rps: z.number().nonnegative(),
  p50: z.number(),
  p95: z.number(),
  p99: z.number(),
  /** Iterations of this second the schedule could not start (every VU busy). */
  dropped: z.number().int().nonnegative().default(0),
  /** Base64 HDR histogram (microseconds) of this second, so series merge exactly across processes. */
  histogram: z.string().optional(),
});
export type SeriesPoint = z.infer<typeof seriesPointSchema>;

/**
 * The outcome of a threshold, a scenario or a run: `inconclusive` when the load generator was
 * starved, so a latency or throughput figure says nothing about the system (neither pass nor fail).
 */
export const outcomeStatusSchema = z.enum(['pass', 'fail', 'inconclusive']);
export type OutcomeStatus = z.infer<typeof outcomeStatusSchema>;

/** A k6-style threshold (`p(99)<200`) and its outcome. */
export const thresholdResultSchema = z.object({
  expression: z.string(),
  metric: z.string(),
  actual: z.number().nullable(),
  /** True only for `status: pass`; an inconclusive threshold did not pass. */
  passed: z.boolean(),
  /** Absent in reports written before it existed: then `passed` decides (pass or fail). */
  status: outcomeStatusSchema.optional(),
  message: z.string().optional(),
});
export type ThresholdResult = z.infer<typeof thresholdResultSchema>;

/** A correctness verdict from a checker. */
export const verdictSchema = z.object({
  checker: z.string(),
  status: z.enum(['pass', 'fail', 'indeterminate']),
  summary: z.string(),
  counts: z.record(z.string(), z.number()),
  examples: z.array(z.unknown()).default([]),
});
export type Verdict = z.infer<typeof verdictSchema>;

/** Free-form evidence attached to a scenario (EXPLAIN ANALYZE text, pool peaks …). */
export const evidenceSchema = z.object({
  title: z.string(),
  kind: z.enum(['text', 'json', 'sql-plan']),
  content: z.unknown(),
});
export type Evidence = z.infer<typeof evidenceSchema>;

/** Passes and failures of one named per-request check. */
export const checkResultSchema = z.object({
  passes: z.number().int().nonnegative(),
  fails: z.number().int().nonnegative(),
});
export type CheckResult = z.infer<typeof checkResultSchema>;

/** Requests, errors and latency of the iterations that carried one value of the breakdown tag. */
export const breakdownEntrySchema = z.object({
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  latency_ms: latencySummarySchema.nullable(),
  /** Base64 HDR histogram (µs), so entries merge exactly across processes. */
  histogram: z.string().optional(),
});
export type BreakdownEntry = z.infer<typeof breakdownEntrySchema>;

/**
 * The load generator's own state while a scenario measured: when `starved`, its latency and
 * throughput thresholds are `inconclusive` (bounds: packages/instruments/load-engine/README.md).
 */
export const generatorReportSchema = z.object({
  /** Start lag p99 (ms) of open-model iterations; null for closed models. */
  lag_p99_ms: z.number().nullable(),
  /** Event-loop delay p99 and max (ms) of the generator's thread. */
  loop_delay_p99_ms: z.number(),
  loop_delay_max_ms: z.number(),
  /** Share of the CPU time the generator's thread asked for that it got (null: not measurable here). */
  cpu_share: z.number().min(0).max(1).nullable(),
  /** CPU the generator process used, in cores. */
  cpu_cores: z.number().nonnegative(),
  /** The machine's 1-minute load average per core. */
  load_per_core: z.number().nonnegative(),
  starved: z.boolean(),
  /** Which figure went past which bound. */
  reason: z.string().nullable(),
});
export type GeneratorReport = z.infer<typeof generatorReportSchema>;

/** Everything measured for one scenario. */
export const scenarioReportSchema = z.object({
  name: z.string(),
  executor: z.string(),
  tags: z.record(z.string(), z.string()).default({}),
  started_at: z.string(),
  duration_s: z.number().nonnegative(),
  requests: z.number().int().nonnegative(),
  successes: z.number().int().nonnegative(),
  error_rate: z.number().min(0).max(1),
  errors: z.record(z.string(), z.number().int().nonnegative()).default({}),
  dropped_iterations: z.number().int().nonnegative().default(0),
  rps: z.object({ achieved: z.number().nonnegative(), target: z.number().nonnegative().nullable() }),
  latency_ms: latencySummarySchema.nullable(),
  /** Base64 HDR histogram of the whole scenario (compressed, as hdr-histogram-js encodes it). */
  histogram: z.string().nullable().default(null),
  series: z.array(seriesPointSchema).default([]),
  metrics: z.record(z.string(), z.number()).default({}),
  thresholds: z.array(thresholdResultSchema).default([]),
  verdicts: z.array(verdictSchema).default([]),
  evidence: z.array(evidenceSchema).default([]),
  /** Per value of a tag (default `endpoint`) when iterations carry it: e.g. `GET /tasks` vs `POST /tasks`. */
  breakdown: z.object({ tag: z.string(), entries: z.record(z.string(), breakdownEntrySchema) }).optional(),
  /** Per-request checks by name. */
  checks: z.record(z.string(), checkResultSchema).default({}),
  /** Set when an `abortOnFail` threshold stopped the scenario early: which, when (s into the measured phase), its figure. */
  aborted: z.object({ threshold: z.string(), at_s: z.number().nonnegative(), actual: z.number() }).optional(),
  /** Execution segment this report covers (`0:1` = the whole scenario). */
  segment: z.string().default('0:1'),
  /**
   * How late iterations actually started after their intended start (open models and bursts):
   * the generator's own lag. A large value means the load generator, not only the system under
   * test, was short of CPU; the latency above already includes it.
   */
  schedule_lag_ms: latencySummarySchema.nullable().optional(),
  /** The load generator's own figures and whether it was starved (absent: not measured). */
  generator: generatorReportSchema.optional(),
  /** Latency measured from the intended start (open model) or the actual start (closed model). */
  latency_basis: z.enum(['intended', 'actual']).default('actual'),
  /** Set in combined reports: the `project/target` the scenario came from. */
  source: z.string().optional(),
  /** Whether every threshold and verdict of this scenario passed (false when inconclusive too). */
  passed: z.boolean().default(true),
  /** `fail` if anything failed, else `inconclusive` if a threshold was, else `pass` (absent in older reports). */
  status: outcomeStatusSchema.optional(),
});
export type ScenarioReport = z.infer<typeof scenarioReportSchema>;

/** Where and how a run happened. */
export const runMetadataSchema = z.object({
  id: z.string(),
  suite: z.string(),
  project: z.string().optional(),
  target: z.string().optional(),
  profile: z.string().optional(),
  started_at: z.string(),
  finished_at: z.string(),
  commit: z.string().nullable(),
  machine: z.object({ hostname: z.string(), platform: z.string(), cpus: z.number().int(), memory_gb: z.number() }),
  node: z.string(),
  config: z.record(z.string(), z.unknown()).default({}),
});
export type RunMetadata = z.infer<typeof runMetadataSchema>;

/** One figure compared against a baseline. */
export const figureComparisonSchema = z.object({
  scenario: z.string(),
  figure: z.string().describe('e.g. latency_ms.p99, rps.achieved, error_rate'),
  /** Which direction is worse: a latency going up, a rate going down. */
  worse_when: z.enum(['higher', 'lower']),
  baseline: z.number(),
  current: z.number(),
  /** Largest change still counted as noise, in the figure's unit. */
  tolerance: z.number().nonnegative(),
  change_pct: z.number().nullable(),
  regressed: z.boolean(),
  note: z.string().optional(),
});
export type FigureComparison = z.infer<typeof figureComparisonSchema>;

/** The outcome of comparing a run with a saved baseline. */
export const baselineComparisonSchema = z.object({
  baseline_id: z.string(),
  baseline_runs: z.number().int().positive(),
  current_runs: z.number().int().positive(),
  method: z.string(),
  figures: z.array(figureComparisonSchema),
  regressed: z.boolean(),
  /**
   * Figures one side has and the other lacks because its load generator was starved: not
   * compared, so the comparison is inconclusive unless something else regressed.
   */
  unjudged: z.array(z.object({ scenario: z.string(), figure: z.string(), why: z.string() })).default([]),
});
export type BaselineComparison = z.infer<typeof baselineComparisonSchema>;

/** The one report model every renderer reads. */
export const runReportSchema = z.object({
  schema_version: z.literal(1),
  run: runMetadataSchema,
  scenarios: z.array(scenarioReportSchema),
  /** Whether every scenario passed (false when one is inconclusive too). */
  passed: z.boolean(),
  /** As a scenario's status, over every scenario (absent in older reports). */
  status: outcomeStatusSchema.optional(),
  /** Present when the run was compared with a baseline. */
  comparison: baselineComparisonSchema.optional(),
  /** Set when the run crashed: the error message (the report is then partial). */
  crash: z.string().optional(),
});
export type RunReport = z.infer<typeof runReportSchema>;

/** A saved baseline: for each scenario and figure, the values of the repeated runs it was made from. */
export const baselineSchema = z.object({
  schema_version: z.literal(1),
  id: z.string(),
  created_at: z.string(),
  commit: z.string().nullable(),
  suite: z.string(),
  runs: z.number().int().positive(),
  /** scenario → figure (`latency_ms.p99`, `rps.achieved`, `error_rate`) → one value per run. */
  figures: z.record(z.string(), z.record(z.string(), z.array(z.number()))),
});
export type Baseline = z.infer<typeof baselineSchema>;
