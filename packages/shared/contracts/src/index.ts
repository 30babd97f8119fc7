/**
 * @crucible/contracts — the zod schemas and inferred types every Crucible app and instrument
 * exchanges. Types are inferred from the schemas, never written twice.
 *
 * @example
 * import { reserveIdsRequestSchema, formatId } from '@crucible/contracts';
 * const body = reserveIdsRequestSchema.parse({ type: 'US', count: 6 });
 * formatId(body.type, 1); // 'US-001'
 */
export * from './errors.js';
export * from './project.js';
export * from './health.js';
export * from './ids.js';
export * from './tasks.js';
export * from './artifacts.js';
export * from './report.js';
export * from './metrics.js';
export * from './failpoints.js';
