// The task API under test with the real ID service beside it: generated task ids come from
// the ID service over HTTP, so a black-box test of the task API starts both, on one database.
import type { Service } from '@crucible/service-kit';
import { discoverApps, freePort, startApp, type RunningApp } from '@crucible/testbed';
import { startService, type ServiceTestContext, type StartServiceOptions } from '@crucible/testbed/testing';
import { taskApiService } from '../src/app.js';

/** The task API of a test, with the ID service process it takes ids from. */
export interface TaskApiUnderTest {
  readonly ctx: Service['ctx'];
  /** The ID service process (stop or kill it to take the dependency away). */
  readonly idService: RunningApp;
  /** Starts the ID service again on the same port (after `idService.stop()` or `kill()`). */
  restartIdService(): Promise<RunningApp>;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the real ID service (a process, on the test's own database) and then the task API
 * in this process with `ID_SERVICE_URL` pointing at it. `idServiceUrl` replaces that URL
 * (e.g. a Toxiproxy proxy in front of it), given the ID service's own URL.
 *
 * @example
 * const api = await startTaskApi();
 * const alpha = await api.project('alpha');
 */
export async function startTaskApi(
  options: StartServiceOptions & { idServiceUrl?: (direct: string) => string | Promise<string> } = {},
): Promise<ServiceTestContext<TaskApiUnderTest>> {
  const manifest = discoverApps().find((a) => a.name === 'id-service');
  if (!manifest) throw new Error('apps/id-service not found');
  return startService((env): TaskApiUnderTest => {
    let inner: Service | undefined;
    let ids: RunningApp | undefined;
    let idEnv: Record<string, string | undefined> = {};
    return {
      get ctx() {
        if (!inner) throw new Error('the task API is not listening yet');
        return inner.ctx;
      },
      get idService() {
        if (!ids) throw new Error('the ID service is not running yet');
        return ids;
      },
      async restartIdService() {
        ids = await startApp(manifest, { env: idEnv });
        return ids;
      },
      async listen() {
        // A fixed port, so a restarted ID service is found where the task API already points.
        idEnv = { DATABASE_URL: env['DATABASE_URL'], CRUCIBLE_ADMIN_TOKEN: env['CRUCIBLE_ADMIN_TOKEN'], LOG_LEVEL: 'silent', PORT: String(await freePort()) };
        ids = await startApp(manifest, { env: idEnv });
        const url = options.idServiceUrl ? await options.idServiceUrl(ids.url) : ids.url;
        inner = taskApiService({ ...env, ID_SERVICE_URL: url });
        return inner.listen();
      },
      async close() {
        await inner?.close();
        await ids?.stop();
      },
    };
  }, options);
}
