import { idempotencyKeyHeader, reserveIdsHeadersSchema, type FieldIssue } from '@crucible/contracts';
import type { z } from 'zod';
import { ServiceError } from './errors.js';

/**
 * Parses request input against a contract schema. On failure throws `validation_failed`
 * whose message names the fields (`body.count: …`) and whose details list every issue.
 *
 * @example
 * const body = parseInput(reserveIdsRequestSchema, req.body, 'body');
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params' | 'header'): z.infer<S> {
  if (where === 'body' && (value === undefined || value === null || typeof value !== 'object')) {
    throw new ServiceError('validation_failed', 'body: expected a JSON object (Content-Type: application/json)', {
      details: [{ path: 'body', message: 'expected a JSON object' }],
    });
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: FieldIssue[] = result.error.issues.map((i) => {
    const keys = i.code === 'unrecognized_keys' ? (i as { keys?: string[] }).keys ?? [] : [];
    const path = [where, ...i.path.map(String), ...(keys.length === 1 ? keys : [])].join('.');
    const message = i.code === 'unrecognized_keys' ? `unknown field${keys.length > 1 ? 's' : ''} ${keys.join(', ')}` : i.message;
    return { path, message };
  });
  throw new ServiceError('validation_failed', issues.map((i) => `${i.path}: ${i.message}`).join('; '), { details: issues });
}

/**
 * The request's `Idempotency-Key`, validated (400 naming `header.idempotency-key` when
 * malformed), or undefined when it sent none. Only that header is read: most calls send no
 * key, and validating every header would cost them for nothing.
 *
 * @example
 * const key = idempotencyKeyOf(req); // a retry with the same key must not act twice
 */
export function idempotencyKeyOf(req: { readonly headers: Readonly<Record<string, string | string[] | undefined>> }): string | undefined {
  if (req.headers[idempotencyKeyHeader] === undefined) return undefined;
  return parseInput(reserveIdsHeadersSchema, { [idempotencyKeyHeader]: req.headers[idempotencyKeyHeader] }, 'header')[idempotencyKeyHeader];
}
