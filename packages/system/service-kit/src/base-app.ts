import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Histogram } from 'prom-client';

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
      if (!logger) return;
      const line = { method: req.method, url: req.originalUrl, status: res.statusCode, ms: seconds * 1000 };
      if (res.statusCode >= 500) logger.warn(line, 'request failed');
      else logger.debug(line, 'request');
    });
    if (isClosing()) res.setHeader('Connection', 'close');
    next();
  });
  return app;
}
