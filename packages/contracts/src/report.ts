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
});
export type SeriesPoint = z.infer<typeof seriesPointSchema>;

/** A k6-style threshold (`p(99)<200`) and its outcome. */
export const thresholdResultSchema = z.object({
  expression: z.string(),
  metric: z.string(),
  actual: z.number().nullable(),
  passed: z.boolean(),
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

/** The one report model every renderer reads. */
export const runReportSchema = z.object({
  schema_version: z.literal(1),
  run: runMetadataSchema,
  scenarios: z.array(scenarioReportSchema),
  passed: z.boolean(),
});
export type RunReport = z.infer<typeof runReportSchema>;
