import { z } from 'zod';
import { projectIdSchema } from './project.js';
import { latencySummarySchema, outcomeStatusSchema, thresholdResultSchema } from './report.js';

/** A run (channel) name on the metrics gateway: letters, digits and `._:-`. */
export const runIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\w.:-]+$/, 'run_id may hold only letters, digits and ._:-');

/** A per-second snapshot a load worker publishes to the metrics gateway. */
export const metricSnapshotSchema = z.object({
  run_id: runIdSchema,
  scenario: z.string().min(1).max(128),
  /** Seconds since the scenario started (the end of the second this snapshot covers). */
  t: z.number().nonnegative(),
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  rps: z.number().nonnegative(),
  latency_ms: latencySummarySchema.partial(),
  /** Base64 HDR histogram of this second. */
  histogram: z.string().optional(),
  /** Errors of this second by kind (`status_503`, `timeout` …). */
  errors_by_kind: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** Requests the executor could not start in time (open models). */
  dropped: z.number().int().nonnegative().optional(),
  /** In-flight requests or active virtual users at the end of the second. */
  active: z.number().int().nonnegative().optional(),
  /** The rate the executor aimed at, when it has one. */
  target_rps: z.number().nonnegative().nullable().optional(),
});
export type MetricSnapshot = z.infer<typeof metricSnapshotSchema>;

/** One scenario of a finished run, as the live dashboard shows it. */
export const runEndScenarioSchema = z.object({
  name: z.string(),
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  error_rate: z.number().min(0).max(1),
  rps: z.number().nonnegative(),
  latency_ms: latencySummarySchema.partial().nullable(),
  thresholds: z.array(thresholdResultSchema).default([]),
  passed: z.boolean(),
  /** `inconclusive` when a threshold could not be judged (a starved load generator); absent from older senders: `passed` decides. */
  status: outcomeStatusSchema.optional(),
});
export type RunEndScenario = z.infer<typeof runEndScenarioSchema>;

/** The final summary of a run: totals per scenario and the threshold outcomes. */
export const runEndSummarySchema = z.object({
  run_id: runIdSchema,
  passed: z.boolean(),
  /** The run's status, as the report's (`inconclusive`: nothing failed, a threshold could not be judged). */
  status: outcomeStatusSchema.optional(),
  finished_at: z.string(),
  duration_s: z.number().nonnegative(),
  scenarios: z.array(runEndScenarioSchema),
});
export type RunEndSummary = z.infer<typeof runEndSummarySchema>;

/**
 * What a run is, sent once before its snapshots: where it ran and on which code, so the
 * gateway's history can list and trend runs by branch, commit and machine. `project` is read
 * only from a publisher holding the operator's publish token; a publisher that connected with
 * a project API key publishes into its key's project, whatever this says.
 */
export const runStartSchema = z.object({
  project: projectIdSchema.optional(),
  commit: z.string().max(64).optional(),
  branch: z.string().max(256).optional(),
  machine: z.string().max(256).optional(),
  profile: z.string().max(64).optional(),
  started_at: z.string().optional(),
});
export type RunStart = z.infer<typeof runStartSchema>;

/** A small metric event (the generic ingest the WebSocket load scenarios use). */
export const metricEventSchema = z.object({
  name: z.string().min(1).max(128),
  value: z.number(),
  /** Sender's clock, epoch milliseconds (fractional allowed): publish→receipt latency. */
  sent_at: z.number().nonnegative().optional(),
  labels: z.record(z.string(), z.string()).optional(),
});
export type MetricEvent = z.infer<typeof metricEventSchema>;

/**
 * Sequence number of a message in its run channel. Publishers may set it (a single
 * publisher that owns its run's order, so a restarted gateway keeps the numbering and a
 * replayed message is recognised as a duplicate); otherwise the gateway assigns the next.
 */
const seqSchema = z.number().int().positive();

/** Messages a publisher sends to the gateway. */
export const gatewayPublishSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run_start'), run_id: runIdSchema, seq: seqSchema.optional(), run: runStartSchema }),
  z.object({ type: z.literal('snapshot'), run_id: runIdSchema, seq: seqSchema.optional(), snapshot: metricSnapshotSchema }),
  z.object({ type: z.literal('event'), run_id: runIdSchema, seq: seqSchema.optional(), event: metricEventSchema }),
  z.object({ type: z.literal('run_end'), run_id: runIdSchema, seq: seqSchema.optional(), summary: runEndSummarySchema }),
]);
export type GatewayPublish = z.infer<typeof gatewayPublishSchema>;

/** Every message a client may send to the gateway (`/ws`). */
export const gatewayClientMessageSchema = z.discriminatedUnion('type', [
  ...gatewayPublishSchema.options,
  /** Join a run channel; `since` = the last sequence already seen (resume), 0 or absent = from the oldest kept. */
  z.object({ type: z.literal('subscribe'), run_id: runIdSchema, since: z.number().int().nonnegative().optional() }),
  z.object({ type: z.literal('unsubscribe'), run_id: runIdSchema }),
]);
export type GatewayClientMessage = z.infer<typeof gatewayClientMessageSchema>;

/** A message of a run channel as subscribers receive it: the published message with its sequence. */
export const channelMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run_start'), run_id: runIdSchema, seq: seqSchema, run: runStartSchema }),
  z.object({ type: z.literal('snapshot'), run_id: runIdSchema, seq: seqSchema, snapshot: metricSnapshotSchema }),
  z.object({ type: z.literal('event'), run_id: runIdSchema, seq: seqSchema, event: metricEventSchema }),
  z.object({ type: z.literal('run_end'), run_id: runIdSchema, seq: seqSchema, summary: runEndSummarySchema }),
]);
export type ChannelMessage = z.infer<typeof channelMessageSchema>;

/** Every message the gateway sends to a client. */
export const gatewayServerMessageSchema = z.discriminatedUnion('type', [
  ...channelMessageSchema.options,
  /** First message on every connection. */
  z.object({
    type: z.literal('welcome'),
    role: z.enum(['publisher', 'subscriber']),
    heartbeat_ms: z.number().int().positive(),
    instance: z.string(),
  }),
  /** Answer to `subscribe`: replay of `since+1 … last_seq` follows, then live messages. */
  z.object({
    type: z.literal('subscribed'),
    run_id: runIdSchema,
    last_seq: z.number().int().nonnegative(),
    oldest_seq: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('unsubscribed'), run_id: runIdSchema }),
  /** A publish with a `seq` was accepted (`duplicate`: already had it; not delivered again). */
  z.object({ type: z.literal('ack'), run_id: runIdSchema, seq: seqSchema, duplicate: z.boolean() }),
  /**
   * Messages `from…to` of the channel will not arrive: `evicted` = they left the bounded
   * history before this subscriber could take them (slow subscriber or late resume);
   * `missing` = this gateway never received them (e.g. it restarted).
   */
  z.object({
    type: z.literal('gap'),
    run_id: runIdSchema,
    from_seq: seqSchema,
    to_seq: seqSchema,
    reason: z.enum(['evicted', 'missing']),
  }),
  /** A message was refused; the envelope is the one HTTP errors use. */
  z.object({
    type: z.literal('error'),
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  }),
]);
export type GatewayServerMessage = z.infer<typeof gatewayServerMessageSchema>;

/** A run channel as `GET /runs` lists it. */
export const gatewayRunSchema = z.object({
  run_id: runIdSchema,
  last_seq: z.number().int().nonnegative(),
  oldest_seq: z.number().int().nonnegative(),
  kept: z.number().int().nonnegative(),
  subscribers: z.number().int().nonnegative(),
  ended: z.boolean(),
  last_activity: z.string(),
});
export type GatewayRun = z.infer<typeof gatewayRunSchema>;

/** `GET /health` of the metrics gateway (it holds no database: its state is its sockets). */
export const gatewayHealthSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  service: z.string(),
  uptime_s: z.number().nonnegative(),
  instance: z.string(),
  connections: z.number().int().nonnegative(),
  channels: z.number().int().nonnegative(),
  subscriptions: z.number().int().nonnegative(),
  lagging_subscribers: z.number().int().nonnegative(),
  messages: z.object({
    ingested: z.number().int().nonnegative(),
    delivered: z.number().int().nonnegative(),
    dropped: z.number().int().nonnegative(),
    rejected: z.number().int().nonnegative(),
  }),
  slow_subscriber_events: z.number().int().nonnegative(),
  heartbeat_terminations: z.number().int().nonnegative(),
});
export type GatewayHealth = z.infer<typeof gatewayHealthSchema>;
