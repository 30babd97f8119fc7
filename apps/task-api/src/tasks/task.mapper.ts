import type { Task, TaskStatus } from '@crucible/contracts';
import type { TaskRow } from '@crucible/db';

/**
 * Maps a `tasks` row to the API's task shape (timestamps as ISO 8601, payload `null` when
 * absent). Each ref's `stale` is `null` here: only the ID service knows it (`TaskRefs.mark`).
 */
export function toTask(row: TaskRow): Task {
  return {
    project_id: row.project_id,
    task_id: row.task_id,
    title: row.title,
    status: row.status as TaskStatus,
    priority: row.priority,
    payload: row.payload ?? null,
    claimed_by: row.claimed_by,
    refs: row.refs.map((id) => ({ id, stale: null })),
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
