import { bumpSequence } from '@crucible/db';
import type { HotQueries } from '@crucible/service-kit';
import { lookupIdsQuery } from './id.refs.js';
import { listSequencesQuery } from './id.repository.js';

/** The ID service's hot queries, built by the same builders the routes run, for `GET /admin/explain`. */
export const idHotQueries: HotQueries = (trx, projectId) => {
  const scope = { projectId };
  return [
    { title: 'allocation upsert, POST /ids/reserve and GET /ids/next (rolled back)', query: bumpSequence(trx, scope, 'US', 6) },
    { title: 'GET /ids/registry', query: listSequencesQuery(trx, scope) },
    { title: 'POST /ids/lookup (the task API asks it for entity references)', query: lookupIdsQuery(trx, scope, ['US-001', 'US-002', 'EPIC-001']) },
  ];
};
