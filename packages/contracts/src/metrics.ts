import { z } from 'zod';
import { latencySummarySchema } from './report.js';

/** A per-second snapshot a load worker publishes to the metrics gateway. */
export const metricSnapshotSchema = z.object({
  run_id: z.string().min(1).max(128),
  scenario: z.string(),
  t: z.number().nonnegative(),
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  rps: z.number().nonnegative(),
  latency_ms: latencySummarySchema.partial(),
  /** Base64 HDR histogram of this second. */
  histogram: z.string().optional(),
});
export type MetricSnapshot = z.infer<typeof metricSnapshotSchema>;
