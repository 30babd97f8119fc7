import path from 'node:path';
import { defaultServerConditions } from 'vite';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/** Export condition that points workspace packages at their TypeScript sources. */
export const sourceCondition = '@crucible/source';

/**
 * Shared Vitest settings for every Crucible project: sources of sibling packages are
 * loaded directly (no build needed), tests run in Node, `.only` fails in CI. With
 * `database: true` one real PostgreSQL is started for the run (embedded, or
 * `DATABASE_URL`) and each test file gets its own database from `@crucible/testbed/testing`.
 */
export function crucibleVitest(
  dirname: string,
  name: string,
  options: { database?: boolean; test?: ViteUserConfig['test'] } = {},
): ViteUserConfig {
  const globalSetup = options.database
    ? [path.join(import.meta.dirname, '../packages/instruments/testbed/src/testing/global-setup.ts')]
    : [];
  // Without Vite's `module` condition: Vitest passes the conditions to its workers' Node
  // (`--conditions module`), and under it Node's require() picks packages' bundler-only ESM
  // builds (imports without file extensions) — @opentelemetry/api's, which prom-client
  // requires when it is installed, failed every test file that loads prom-client.
  const conditions = [sourceCondition, ...defaultServerConditions.filter((c) => c !== 'module')];
  return defineConfig({
    root: dirname,
    cacheDir: `${dirname}/node_modules/.vite`,
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: [sourceCondition] } },
    // Global setup (the run's PostgreSQL) loads in Vitest's own environment, which takes
    // neither setting above: without this it resolves workspace packages to dist/, which a
    // fresh clone has not built.
    environments: { __vitest__: { resolve: { conditions, externalConditions: [sourceCondition] } } },
    test: {
      name,
      watch: false,
      environment: 'node',
      include: ['{src,tests}/**/*.test.ts'],
      reporters: ['default'],
      allowOnly: !process.env['CI'],
      passWithNoTests: false,
      testTimeout: 30_000,
      hookTimeout: 60_000,
      globalSetup,
      ...options.test,
    },
  });
}
