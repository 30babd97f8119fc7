import nx from '@nx/eslint-plugin';

/**
 * The instruments' own direction, bottom to top: instrument-kit (histograms, error registry,
 * paths) ← load-engine, chaos, checkers, benchmarks ← reporting (renders measurements) and
 * testbed (brings systems up; drives chaos) ← suite-kit (the one suite lifecycle) ← suites and
 * the `crucible` command (cli), which nothing imports.
 */
const instrumentDirection = [
  { sourceTag: 'kind:instrument-kit', onlyDependOnLibsWithTags: ['kind:contracts', 'kind:baseline'] },
  { sourceTag: 'kind:load-engine', onlyDependOnLibsWithTags: ['kind:contracts', 'kind:instrument-kit'] },
  { sourceTag: 'kind:chaos', onlyDependOnLibsWithTags: ['kind:contracts', 'kind:instrument-kit'] },
  { sourceTag: 'kind:checkers', onlyDependOnLibsWithTags: ['kind:contracts', 'kind:db', 'kind:instrument-kit'] },
  { sourceTag: 'kind:benchmarks', onlyDependOnLibsWithTags: ['kind:contracts', 'kind:instrument-kit'] },
  { sourceTag: 'kind:reporting', onlyDependOnLibsWithTags: ['kind:contracts', 'kind:baseline', 'kind:instrument-kit', 'kind:load-engine'] },
  { sourceTag: 'kind:testbed', onlyDependOnLibsWithTags: ['kind:contracts', 'kind:db', 'kind:instrument-kit', 'kind:chaos'] },
  // The `crucible` command sits on top: it drives the engine and the reports (and, for
  // `stress --target`, the suite kit), and re-exports the checkers a scenario's `verify` uses;
  // nothing imports it, so it stays an entry point.
  { sourceTag: 'kind:cli', onlyDependOnLibsWithTags: ['kind:contracts', 'kind:instrument-kit', 'kind:load-engine', 'kind:reporting', 'kind:suite-kit', 'kind:checkers', 'kind:chaos'] },
];
/** Nothing imports the command: it is an entry point, never a library. */
const nobodyImportsTheCli = { sourceTag: '*', notDependOnLibsWithTags: ['kind:cli'] };

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: ['**/dist', '**/out-tsc', '**/test-output', '**/vitest.config.*.timestamp*', 'reports/**', '.tools/**'],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          banTransitiveDependencies: true,
          allow: ['^.*/eslint(\\.base)?\\.config\\.[cm]?[jt]s$', '^.*/tools/vitest-preset\\.mts$'],
          depConstraints: [
            // Libraries never import an app; apps use libraries only.
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            // Suites drive the system under test from outside: instruments plus the app they test.
            { sourceTag: 'type:suite', onlyDependOnLibsWithTags: ['type:lib', 'type:app'] },
            // The system under test never imports an instrument, and instruments never import it.
            { sourceTag: 'scope:sut', onlyDependOnLibsWithTags: ['scope:sut', 'scope:shared'] },
            { sourceTag: 'scope:instrument', onlyDependOnLibsWithTags: ['scope:instrument', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            ...instrumentDirection,
            nobodyImportsTheCli,
            // The noise-aware comparison is pure: it reads the contracts' types and nothing else.
            { sourceTag: 'kind:baseline', onlyDependOnLibsWithTags: ['kind:contracts'] },
            // Contracts are pure schemas: no project and no runtime library but zod.
            {
              sourceTag: 'kind:contracts',
              onlyDependOnLibsWithTags: [],
              allowedExternalImports: ['zod', 'zod/*', 'vitest'],
            },
          ],
        },
      ],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@crucible/*/src/*', '@crucible/*/dist/*'], message: 'Import the package entry point, not its files.' }] },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      // No-op callbacks (`() => {}`) are idiomatic for listeners and disposers.
      '@typescript-eslint/no-empty-function': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests of the system under test may bring it up with the testbed (and nothing else
    // from the instruments): the fixture is test scaffolding, not a runtime dependency.
    // Tests of an instrument may also use a real database and the testbed.
    files: ['**/*.test.ts', '**/tests/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: ['^.*/tools/vitest-preset\\.mts$'],
          depConstraints: [
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:suite', onlyDependOnLibsWithTags: ['type:lib', 'type:app'] },
            { sourceTag: 'scope:sut', onlyDependOnLibsWithTags: ['scope:sut', 'scope:shared', 'kind:testbed'] },
            { sourceTag: 'scope:instrument', onlyDependOnLibsWithTags: ['scope:instrument', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            ...instrumentDirection.map((c) => ({ ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'kind:db', 'kind:testbed'] })),
            nobodyImportsTheCli,
            { sourceTag: 'kind:contracts', onlyDependOnLibsWithTags: [], allowedExternalImports: ['zod', 'zod/*', 'vitest'] },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/*/*/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**', '**/cli.ts', '**/*.cli.ts'],
    rules: {
      // Library code logs through an injected logger or emits events.
      'no-console': 'error',
    },
  },
];
