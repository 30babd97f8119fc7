import { resourceParamsSchema, type ResourceListResponse } from '@crucible/contracts';
import { parseInput, ServiceError, type ServiceContext } from '@crucible/service-kit';
import { Router } from 'express';
import { ifNoneMatchHits } from '../artifacts/etag.js';
import type { ResourceStore } from './resource.store.js';

/**
 * The shared-document routes: `GET /resources` lists them, `GET /resources/:name` serves
 * one as markdown through the store's caches, with an ETag, `If-None-Match` support and the
 * tier that answered in `X-Cache-Tier`.
 * Documents are the same for every project, but reading them still takes an API key.
 *
 * @example
 * app.use(resourceRoutes(ctx, store));
 */
export function resourceRoutes(ctx: ServiceContext, store: ResourceStore): Router {
  const router = Router();

  router.get('/resources', ctx.requireApiKey, (_req, res) => {
    const body: ResourceListResponse = { items: store.list() };
    res.json(body);
  });

  router.get('/resources/:name', ctx.requireApiKey, async (req, res) => {
    const { name } = parseInput(resourceParamsSchema, req.params, 'params');
    const resource = await store.get(name);
    if (!resource) throw new ServiceError('resource_not_found', `no shared resource named ${name}; GET /resources lists them`);
    res.setHeader('ETag', resource.etag);
    res.setHeader('Cache-Control', 'private, no-cache');
    // Which tier answered (lru, redis, disk): what a client measuring the cache's latency splits on.
    res.setHeader('X-Cache-Tier', resource.tier);
    if (ifNoneMatchHits(req.headers['if-none-match'], resource.etag)) {
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Type', 'text/markdown; charset=utf-8');
    res.send(resource.content);
  });

  return router;
}
