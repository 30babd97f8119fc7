#!/usr/bin/env node
// The `crucible` command. Workspace packages resolve to their TypeScript sources (the
// `@crucible/source` condition) and scenario files may be TypeScript, so the CLI runs in a
// node started with that condition and tsx; this launcher only starts it and passes on its
// exit code and signals. tsx is resolved from here, so any working directory will do.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
const child = spawn(process.execPath, ['--conditions=@crucible/source', '--import', tsx, main, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 2);
});
