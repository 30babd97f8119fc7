import {
  formatId,
  idRegistryQuerySchema,
  lookupIdsRequestSchema,
  retireIdRequestSchema,
  nextIdQuerySchema,
  reserveIdsQuerySchema,
  reserveIdsRequestSchema,
  type IdRegistryResponse,
  type LookupIdsResponse,
  type NextIdResponse,
  type RetireIdResponse,
  type ReserveIdsResponse,
} from '@crucible/contracts';
import { ServiceError, idempotencyKeyOf, parseInput, resolveProject, scopeOf, type ServiceContext } from '@crucible/service-kit';
import { Router, type IRouter, type Request, type Response } from 'express';
import { IdMetrics } from './id.metrics.js';
import { lookupIds, retireId } from './id.refs.js';
import { listSequences } from './id.repository.js';
import { IdReserver, type Reservation, type ReserveRequest } from './id.service.js';

/** Renders `first..last` as IDs (`US-001` …). */
export function renderIds(type: string, first: number, last: number): string[] {
  const ids = new Array<string>(last - first + 1);
  for (let n = first; n <= last; n++) ids[n - first] = formatId(type, n);
  return ids;
}

function methodNotAllowed(allowed: string) {
  return (req: Request, res: Response) => {
    res.setHeader('Allow', allowed);
    throw new ServiceError('method_not_allowed', `${req.method} ${req.path} is not allowed; use ${allowed}`);
  };
}

/**
 * The ID routes: `POST /ids/reserve`, `GET /ids/next` (both reserve, both honour
 * `Idempotency-Key`), `GET /ids/registry`, `POST /ids/retire` and `POST /ids/lookup`
 * (the state of ids, for the task API's entity references). Every route needs an API key and serves only
 * the key's project. Added to `router` (a new `Router` unless given); the service adds them
 * to its app itself, which spares every request a nested router's walk.
 *
 * @example
 * definition.routes = (app, ctx) => void idRoutes(ctx, app);
 */
export function idRoutes<R extends IRouter>(ctx: ServiceContext, router: R = Router() as R): R {
  const reserver = new IdReserver(ctx.db);
  const metrics = new IdMetrics(ctx.metrics.registry, () => reserver.stats);
  const reserve = async (res: Response, request: ReserveRequest, projectId: string, key: string | undefined): Promise<Reservation> => {
    const r = await reserver.reserve({ projectId }, request, key);
    metrics.record(request, r);
    if (key !== undefined) res.setHeader('Idempotent-Replayed', String(r.replayed));
    return r;
  };

  router.post('/ids/reserve', ctx.requireApiKey, async (req, res) => {
    parseInput(reserveIdsQuerySchema, req.query, 'query');
    const body = parseInput(reserveIdsRequestSchema, req.body, 'body');
    const key = idempotencyKeyOf(req);
    const projectId = resolveProject(scopeOf(res), body.project_id);
    const r = await reserve(res, { op: 'reserve', type: body.type, count: body.count }, projectId, key);
    const answer: ReserveIdsResponse = { project_id: projectId, type: r.type, ids: renderIds(r.type, r.first, r.last), first: r.first, last: r.last };
    res.json(answer);
  });
  router.all('/ids/reserve', methodNotAllowed('POST'));

  // HEAD would otherwise run the GET handler and reserve an ID nobody sees.
  router.head('/ids/next', methodNotAllowed('GET'));
  router.get('/ids/next', ctx.requireApiKey, async (req, res) => {
    const query = parseInput(nextIdQuerySchema, req.query, 'query');
    const key = idempotencyKeyOf(req);
    const projectId = resolveProject(scopeOf(res), query.project);
    const r = await reserve(res, { op: 'next', type: query.type, count: 1 }, projectId, key);
    const answer: NextIdResponse = { id: formatId(r.type, r.last), number: r.last };
    res.json(answer);
  });
  router.all('/ids/next', methodNotAllowed('GET'));

  router.get('/ids/registry', ctx.requireApiKey, async (req, res) => {
    const query = parseInput(idRegistryQuerySchema, req.query, 'query');
    const projectId = resolveProject(scopeOf(res), query.project);
    const answer: IdRegistryResponse = { project_id: projectId, sequences: await listSequences(ctx.db, { projectId }) };
    res.json(answer);
  });
  router.all('/ids/registry', methodNotAllowed('GET'));

  router.post('/ids/retire', ctx.requireApiKey, async (req, res) => {
    const body = parseInput(retireIdRequestSchema, req.body, 'body');
    const scope = scopeOf(res);
    const retired = await retireId(ctx.db, scope, body.id);
    // Never issued to this project, or another project's: the same 404, which tells nothing of other projects.
    if (!retired) {
      throw new ServiceError('id_not_found', `${body.id} was never issued to project ${scope.projectId}`, { details: [{ path: 'body.id', message: `${body.id} was never issued to this project` }] });
    }
    const answer: RetireIdResponse = { project_id: scope.projectId, id: retired.id, state: 'retired', retired_at: retired.retiredAt.toISOString() };
    res.json(answer);
  });
  router.all('/ids/retire', methodNotAllowed('POST'));

  // A POST though it changes nothing: a list of ids does not fit a query string's bounds.
  router.post('/ids/lookup', ctx.requireApiKey, async (req, res) => {
    const body = parseInput(lookupIdsRequestSchema, req.body, 'body');
    const scope = scopeOf(res);
    const answer: LookupIdsResponse = { project_id: scope.projectId, ids: await lookupIds(ctx.db, scope, body.ids) };
    res.json(answer);
  });
  router.all('/ids/lookup', methodNotAllowed('POST'));

  return router;
}
