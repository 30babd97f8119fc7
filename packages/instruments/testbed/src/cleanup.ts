/**
 * Process-wide teardown registry: whatever the testbed starts registers a cleanup here, so
 * success, failure, SIGINT and SIGTERM all leave no process and no temp dir behind.
 */
type Cleanup = () => Promise<void>;

const cleanups = new Set<Cleanup>();
let installed = false;
let exiting = false;

async function runAll(): Promise<void> {
  const all = [...cleanups].reverse();
  cleanups.clear();
  await Promise.allSettled(all.map((c) => c()));
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      if (exiting) return;
      exiting = true;
      const code = signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 129;
      const force = setTimeout(() => process.exit(code), 15_000);
      force.unref();
      void runAll().finally(() => process.exit(code));
    });
  }
}

/** Registers a cleanup; returns a function that runs it once and unregisters it. */
export function onTeardown(cleanup: Cleanup): () => Promise<void> {
  install();
  let done: Promise<void> | undefined;
  const once: Cleanup = () => (done ??= cleanup());
  cleanups.add(once);
  return async () => {
    cleanups.delete(once);
    await once();
  };
}

/** Runs every registered cleanup (used by tests and the CLI on normal exit). */
export async function teardownAll(): Promise<void> {
  await runAll();
}
