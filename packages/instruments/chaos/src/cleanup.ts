/**
 * How a started resource registers its cleanup. The testbed passes its own `onTeardown`
 * (which also runs on SIGINT/SIGTERM); chaos cannot import the testbed (the testbed imports
 * chaos), so on its own it falls back to {@link killOnExit}.
 *
 * Registers `cleanup`; returns a function that runs it once and unregisters it.
 */
export type TeardownHook = (cleanup: () => Promise<void>) => () => Promise<void>;

/**
 * The fallback teardown hook: runs nothing asynchronously, but calls `kill()` synchronously
 * when the process exits, so a server started by a test never outlives the test process.
 */
export function killOnExit(kill: () => void): TeardownHook {
  return (cleanup) => {
    const onExit = () => kill();
    process.once('exit', onExit);
    let done: Promise<void> | undefined;
    return () => {
      process.removeListener('exit', onExit);
      return (done ??= cleanup());
    };
  };
}
