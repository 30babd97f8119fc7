import { artifactParamsSchema, artifactPutHeadersSchema } from '@crucible/contracts';
import { parseInput, scopeOf, type ServiceContext } from '@crucible/service-kit';
import express, { Router } from 'express';
import * as artifacts from './artifact.service.js';
import { ifNoneMatchHits } from './etag.js';

/** Path prefix whose bodies the artifact routes read themselves (see `ownBodyPaths`). */
export const artifactBodyPath = '/artifacts/';

/**
 * The artifact routes: `PUT` stores any bytes with their content type (up to
 * `limitBytes`, 413 beyond), `GET` returns them with an ETag and honours `If-None-Match`,
 * `DELETE` removes them. Another project's artifact is 404.
 *
 * @example
 * app.use(artifactRoutes(ctx, { limitBytes: 1 << 20 }));
 */
export function artifactRoutes(ctx: ServiceContext, options: { limitBytes: number }): Router {
  const { db, requireApiKey } = ctx;
  const router = Router();
  // Any content type, as raw bytes: the global JSON parser skips this path, so a JSON
  // artifact is stored exactly as sent. No inflation: a gzip body is refused (415), not
  // silently stored decompressed.
  const readBody = express.raw({ type: () => true, limit: options.limitBytes, inflate: false });

  router.put(
    '/artifacts/:artifact_id',
    requireApiKey,
    // Validate everything but the body before reading it, so a bad request costs no upload.
    (req, res, next) => {
      const { artifact_id } = parseInput(artifactParamsSchema, req.params, 'params');
      const headers = parseInput(artifactPutHeadersSchema, req.headers, 'header');
      res.locals['artifact'] = { id: artifact_id, contentType: headers['content-type']?.trim() ?? 'application/octet-stream' };
      next();
    },
    readBody,
    async (req, res) => {
      const { id, contentType } = res.locals['artifact'] as { id: string; contentType: string };
      // No body at all reads as empty; a body some other parser already turned into a value
      // means the bytes are gone, and storing anything then would be a lie.
      if (req.body !== undefined && !Buffer.isBuffer(req.body)) throw new Error('the artifact body was read by another body parser before the artifact route');
      const content = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const meta = await artifacts.putArtifact(db, scopeOf(res), id, content, contentType);
      res.setHeader('ETag', meta.etag);
      res.status(meta.created ? 201 : 200).json(meta);
    },
  );

  router.get('/artifacts/:artifact_id', requireApiKey, async (req, res) => {
    const { artifact_id } = parseInput(artifactParamsSchema, req.params, 'params');
    const artifact = await artifacts.getArtifact(db, scopeOf(res), artifact_id);
    res.setHeader('ETag', artifact.etag);
    res.setHeader('Cache-Control', 'private, no-cache');
    if (ifNoneMatchHits(req.headers['if-none-match'], artifact.etag)) {
      res.status(304).end();
      return;
    }
    // Stored bytes are whatever a client sent: never let a browser sniff or run them.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('Content-Type', artifact.contentType);
    res.send(artifact.content);
  });

  router.delete('/artifacts/:artifact_id', requireApiKey, async (req, res) => {
    const { artifact_id } = parseInput(artifactParamsSchema, req.params, 'params');
    await artifacts.deleteArtifact(db, scopeOf(res), artifact_id);
    res.status(204).end();
  });

  return router;
}
