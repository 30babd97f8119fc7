import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The workspace root: the nearest directory holding `nx.json`, searched upwards from `from`
 * (default: this package's own directory, so it works from `src` and `dist` and from any cwd).
 * Outside a workspace, `from` itself.
 */
export function workspaceRoot(from = import.meta.dirname): string {
  let dir = path.resolve(from);
  for (;;) {
    if (existsSync(path.join(dir, 'nx.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(from);
    dir = parent;
  }
}

/** Where installed tools live (`tools/install-*.sh` put binaries in `<root>/.tools/bin`). */
export function toolsBinDir(): string {
  return path.join(workspaceRoot(), '.tools', 'bin');
}
