import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { RunMetadata } from '@crucible/contracts';

/** The current git commit (short), `GITHUB_SHA` in CI, or null outside a repository. */
export function currentCommit(): string | null {
  const fromEnv = process.env['GITHUB_SHA'];
  if (fromEnv) return fromEnv.slice(0, 12);
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

/** Hostname, platform, CPU count and memory of this machine. */
export function machineInfo(): RunMetadata['machine'] {
  return {
    hostname: os.hostname(),
    platform: `${os.platform()}-${os.arch()}`,
    cpus: os.availableParallelism(),
    memory_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}

/** Fields of {@link RunMetadata} a caller chooses; the rest is filled in. */
export interface RunMetadataInput {
  readonly suite: string;
  readonly id?: string;
  /** Nx project; defaults to `NX_TASK_TARGET_PROJECT`. */
  readonly project?: string;
  /** Nx target (stress, resilience, …); defaults to `NX_TASK_TARGET_TARGET`. */
  readonly target?: string;
  readonly profile?: string;
  readonly config?: Record<string, unknown>;
  readonly startedAt?: Date | string;
  readonly finishedAt?: Date | string;
}

/** Complete run metadata: commit, machine, Node version, Nx project/target from the environment. */
export function runMetadata(input: RunMetadataInput): RunMetadata {
  const iso = (d: Date | string | undefined): string => (d === undefined ? new Date().toISOString() : typeof d === 'string' ? d : d.toISOString());
  const project = input.project ?? process.env['NX_TASK_TARGET_PROJECT'];
  const target = input.target ?? process.env['NX_TASK_TARGET_TARGET'];
  return {
    id: input.id ?? randomUUID(),
    suite: input.suite,
    ...(project ? { project } : {}),
    ...(target ? { target } : {}),
    ...(input.profile ? { profile: input.profile } : {}),
    started_at: iso(input.startedAt),
    finished_at: iso(input.finishedAt),
    commit: currentCommit(),
    machine: machineInfo(),
    node: process.version,
    config: input.config ?? {},
  };
}
