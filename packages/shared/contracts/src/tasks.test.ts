import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  artifactContentTypeSchema,
  createTaskRequestSchema,
  listTasksQuerySchema,
  maxPayloadDepth,
  maxTaskRefs,
  resourceNameSchema,
  taskCursorSchema,
  updateTaskRequestSchema,
  type CreateTaskRequest,
  type TaskCursor,
} from './index.js';

describe('task contracts', () => {
  it('accepts a minimal task and refuses what PostgreSQL could not store', () => {
    expect(createTaskRequestSchema.parse({ title: 't' })).toEqual({ title: 't' });
    expect(createTaskRequestSchema.safeParse({ title: 'a\u0000b' }).success).toBe(false);
    expect(createTaskRequestSchema.safeParse({ title: 't', priority: 1001 }).success).toBe(false);
    expect(updateTaskRequestSchema.safeParse({ title: 't', expected_version: 2 ** 31 }).success).toBe(false);
    expect(updateTaskRequestSchema.safeParse({ expected_version: 1 }).success).toBe(false);
    const nest = (depth: number): unknown => (depth === 0 ? 1 : depth % 2 ? [nest(depth - 1)] : { a: nest(depth - 1) });
    expect(createTaskRequestSchema.safeParse({ title: 't', payload: nest(maxPayloadDepth) }).success).toBe(true);
    expect(createTaskRequestSchema.safeParse({ title: 't', payload: nest(maxPayloadDepth + 1) }).success).toBe(false);
    expect(createTaskRequestSchema.safeParse({ title: 't', payload: JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) }).success).toBe(false);
  });
  it('caps a page at 500 and coerces the query string limit', () => {
    expect(listTasksQuerySchema.parse({ limit: '500' }).limit).toBe(500);
    expect(listTasksQuerySchema.safeParse({ limit: '501' }).success).toBe(false);
  });
  it('keeps microseconds in a cursor', () => {
    expect(taskCursorSchema.safeParse(['2026-01-01T00:00:00.123456Z', 'TASK-001']).success).toBe(true);
    expect(taskCursorSchema.safeParse(['2026-01-01T00:00:00.123Z', 'TASK-001']).success).toBe(false);
    expectTypeOf<TaskCursor>().toEqualTypeOf<[string, string]>();
  });
  it('accepts media types and resource names by their documented shapes only', () => {
    expect(artifactContentTypeSchema.safeParse('text/plain; charset="utf-8"').success).toBe(true);
    expect(artifactContentTypeSchema.safeParse('text/plain\r\nx-injected: 1').success).toBe(false);
    expect(resourceNameSchema.safeParse('sdlc-core.md').success).toBe(true);
    expect(resourceNameSchema.safeParse('..').success).toBe(false);
    expect(resourceNameSchema.safeParse('a/b.md').success).toBe(false);
  });
  it('infers the create request from its schema', () => {
    expectTypeOf<CreateTaskRequest['title']>().toEqualTypeOf<string>();
    expectTypeOf<CreateTaskRequest['priority']>().toEqualTypeOf<number | undefined>();
  });

  it('takes up to maxTaskRefs distinct, well-formed refs on create and update', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `US-${String(i + 1).padStart(3, '0')}`);
    expect(createTaskRequestSchema.safeParse({ title: 't', refs: ids(maxTaskRefs) }).success).toBe(true);
    expect(createTaskRequestSchema.safeParse({ title: 't', refs: ids(maxTaskRefs + 1) }).success).toBe(false);
    expect(createTaskRequestSchema.safeParse({ title: 't', refs: ['US-001', 'US-001'] }).success).toBe(false);
    expect(createTaskRequestSchema.safeParse({ title: 't', refs: 'US-001' }).success).toBe(false);
    // refs alone is a change; [] removes them.
    expect(updateTaskRequestSchema.safeParse({ refs: [] }).success).toBe(true);
  });
});
