// The open-file limit the WebSocket stress needs, raised before anything starts.
import { spawnSync } from 'node:child_process';

/**
 * Makes sure this process may open `needed` files: each connection is one descriptor here and
 * one in the gateway (a child with the same limits). When the soft limit is lower and the
 * hard one allows, re-runs this very command under `ulimit -n <needed>` and exits with its
 * code; when the hard limit is lower too, exits 2 naming the command that fixes it.
 * Returns the soft limit it found otherwise.
 */
export function ensureOpenFiles(needed: number, what: string): number {
  const soft = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isFinite(soft) || soft >= needed) return soft;
  const hard = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  const hardN = hard === 'unlimited' ? Infinity : Number(hard);
  if (hardN < needed || process.env['CRUCIBLE_FD_RAISED']) {
    process.stderr.write(`${what} needs ${needed} open files but the limit is ${soft} (hard ${hard}); raise it (ulimit -n ${needed}) and rerun\n`);
    process.exit(2);
  }
  process.stderr.write(`raising the open-file limit from ${soft} to ${needed} and restarting\n`);
  const args = [...process.execArgv, ...process.argv.slice(1)].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('sh', ['-c', `ulimit -n ${needed} && exec '${process.execPath}' ${args}`], { stdio: 'inherit', env: { ...process.env, CRUCIBLE_FD_RAISED: '1' } });
  process.exit(r.status ?? 1);
}
