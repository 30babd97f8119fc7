import type { HotQueries } from '@crucible/service-kit';
import { claimNextTaskQuery, insertTaskQuery, listTasksQuery, nextTaskQuery } from './task.repository.js';

/** The task API's hot queries, built by the repository itself, for `GET /admin/explain`. */
export const taskHotQueries: HotQueries = (trx, projectId) => {
  const scope = { projectId };
  return [
    { title: 'GET /tasks/next', query: nextTaskQuery(trx, scope, 'pending') },
    { title: 'GET /tasks (first page of 50)', query: listTasksQuery(trx, scope, { limit: 50 }) },
    { title: 'POST /tasks/claim (rolled back)', query: claimNextTaskQuery(trx, scope, 'explain') },
    { title: 'POST /tasks insert (rolled back)', query: insertTaskQuery(trx, scope, { taskId: 'explain-insert', title: 'explain', status: 'pending', priority: 0, payload: undefined, refs: [] }) },
  ];
};
