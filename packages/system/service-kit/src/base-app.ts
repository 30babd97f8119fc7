import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Counter, Histogram } from 'prom-client';
import { normaliseError, type ServiceError } from './errors.js';
import { failpoint } from './failpoints.js';

/**
 * An Express 5 app with the settings every Crucible HTTP process shares (no `x-powered-by`,
 * no ETags, the simple query parser) and one middleware that times every request into
 * `httpDuration` by route and status, logs 5xx answers, and asks clients to close their
 * connection once `isClosing()` (graceful shutdown).
 */
export function baseApp(options: { httpDuration: Histogram<'method' | 'route' | 'status'>; isClosing: () => boolean; logger?: Logger }): Express {
  const { httpDuration, isClosing, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use((req: Request, res: Response, next: NextFunction) => {
    const t0 = performance.now();
    res.once('finish', () => {
      // Never the raw path: anyone can send any number of distinct paths, and each label
      // value is a series kept in memory for good. A request no route took is `unmatched`.
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      const seconds = (performance.now() - t0) / 1000;
      httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      // The log line is built only when it will be written (5xx, or debug on).
      if (!logger || (res.statusCode < 500 && !logger.isLevelEnabled('debug'))) return;
      const line = { method: req.method, url: req.originalUrl, status: res.statusCode, ms: seconds * 1000 };
      if (res.statusCode >= 500) logger.warn(line, 'request failed');
      else logger.debug(line, 'request');
    });
    if (isClosing()) res.setHeader('Connection', 'close');
    next();
  });
  return app;
}

/**
 * The error edge every app ends with, written once: normalises whatever was thrown into the
 * JSON envelope, counts it by code, logs 5xx, sets `Retry-After`, and destroys a response
 * whose headers already went out. `observe` sees each normalised error first (pool
 * watching, the planted slow-recovery breaker).
 *
 * @example
 * app.use(errorEdge({ httpErrors: metrics.httpErrors, logger }));
 */
export function errorEdge(o: { httpErrors: Counter<'code'>; logger: Logger; observe?: (e: ServiceError, thrown: unknown) => void }) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const e = normaliseError(err);
    o.observe?.(e, err);
    o.httpErrors.inc({ code: e.code });
    if (e.status >= 500) o.logger.error({ err: e.cause ?? e, code: e.code, method: req.method, url: req.originalUrl }, e.message);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Planted defects (failpoints; never armed in production): a database error answered 500
    // in plain text, a 503 without Retry-After, a refusal held 1.5 s.
    if (e.code === 'database_unavailable' && failpoint('errors.unclean-500')) {
      res.status(500).type('text/plain').send('Internal Server Error');
      return;
    }
    if (e.retryAfter !== undefined && !failpoint('errors.no-retry-after')) res.setHeader('Retry-After', String(e.retryAfter));
    const answer = () => void res.status(e.status).json(e.toEnvelope());
    if (e.status === 503 && failpoint('errors.slow-refusal')) setTimeout(answer, 1500);
    else answer();
  };
}
