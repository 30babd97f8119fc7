import type { RequestHandler } from 'express';
import { armedFailpoints, failpoint } from '@crucible/service-kit';

/** What `tasks.memory.leak` keeps: one MiB per request, never let go. */
const leaked: Buffer[] = [];

/**
 * The planted resource defects the user ladder's p95, CPU-share and RSS thresholds must catch,
 * before any route runs: `tasks.answer.slow` (600 ms held), `tasks.cpu.spin` (20 ms of busy CPU)
 * and `tasks.memory.leak` (1 MiB kept). `undefined` (nothing mounted, nothing on the request
 * path) unless `CRUCIBLE_FAILPOINTS` arms one of them.
 */
export function loadDefects(): RequestHandler | undefined {
  const armed = armedFailpoints();
  if (armed['tasks.answer.slow'] === undefined && armed['tasks.cpu.spin'] === undefined && armed['tasks.memory.leak'] === undefined) return undefined;
  return (_req, _res, next) => {
    if (failpoint('tasks.memory.leak')) leaked.push(Buffer.alloc(1 << 20, 1));
    if (failpoint('tasks.cpu.spin')) {
      for (const end = performance.now() + 20; performance.now() < end; );
    }
    if (failpoint('tasks.answer.slow')) setTimeout(next, 600);
    else next();
  };
}
