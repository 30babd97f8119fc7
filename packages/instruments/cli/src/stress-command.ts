import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { RunReport } from '@crucible/contracts';
import { InstrumentError, workspaceRoot } from '@crucible/instrument-kit';
import { EXIT, type CommandIo } from '@crucible/reporting';
import { NO_DATABASE, readSutTarget, targetApps } from '@crucible/suite-kit';

/** `crucible stress`'s settings, read from its command line. */
export interface StressSettings {
  /** The target file (`npm run sut`'s JSON line); absent: each suite starts its embedded system. */
  readonly target?: string;
  /** The apps whose stress suites run, in order. */
  readonly apps: readonly string[];
  readonly outDir: string;
  readonly profile?: 'quick' | 'full';
  /** `--step NAME …`, passed on to every suite. */
  readonly steps: readonly string[];
}

/** One app's built-in stress suite: `apps/<app>/suites/src/stress.ts`. */
interface StressSuite {
  readonly app: string;
  readonly dir: string;
  readonly file: string;
  /** Its Nx project, under which its report is written. */
  readonly project: string;
}

/** Every app with a built-in stress suite, by name. */
export function stressSuites(root: string = workspaceRoot()): StressSuite[] {
  const appsDir = path.join(root, 'apps');
  return readdirSync(appsDir)
    .sort()
    .flatMap((app) => {
      const dir = path.join(appsDir, app, 'suites');
      const file = path.join(dir, 'src', 'stress.ts');
      if (!existsSync(file)) return [];
      const { name } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string };
      return [{ app, dir, file, project: name }];
    });
}

/**
 * Reads `crucible stress`'s flag values: `--target` must be a readable target file,
 * `--only` (repeatable or comma-separated) names apps with a stress suite — and, with a
 * target, apps the target holds. A bad one throws `bad_argument` naming it and the accepted values.
 */
export function stressSettings(
  values: { readonly target?: string; readonly only?: readonly string[]; readonly out?: string; readonly profile?: string; readonly step?: readonly string[] },
  positionals: readonly string[],
  suites: readonly StressSuite[] = stressSuites(),
): StressSettings {
  if (positionals.length > 0) throw new InstrumentError('bad_argument', `crucible stress takes no positional argument, not "${positionals.join(' ')}" (the system is --target FILE)`);
  const profile = values.profile;
  if (profile !== undefined && profile !== 'quick' && profile !== 'full') throw new InstrumentError('bad_argument', `--profile must be quick or full, not "${profile}"`);
  const known = suites.map((s) => s.app);
  const target = values.target === undefined ? undefined : path.resolve(values.target);
  const inTarget = target ? targetApps(readSutTarget(target)) : known;
  const only = (values.only ?? []).flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean);
  for (const app of only) {
    if (!known.includes(app)) throw new InstrumentError('bad_argument', `--only: no stress suite for "${app}"; the suites are ${known.join(', ')}`);
    if (!inTarget.includes(app)) throw new InstrumentError('bad_argument', `--only ${app}: the target ${values.target ?? ''} has no ${app.replaceAll('-', '_')}_url (it holds ${inTarget.join(', ')})`);
  }
  const apps = only.length > 0 ? known.filter((a) => only.includes(a)) : known.filter((a) => inTarget.includes(a));
  if (apps.length === 0) throw new InstrumentError('bad_argument', `the target holds no app with a stress suite (${known.join(', ')})`);
  return {
    ...(target ? { target } : {}),
    apps,
    outDir: path.resolve(values.out ?? process.env['CRUCIBLE_REPORTS_DIR'] ?? 'reports'),
    ...(profile ? { profile } : {}),
    steps: values.step ?? [],
  };
}

/** Worse first, as a run report's exit code ranks them: crash, failure, inconclusive, regression, pass. */
const rank = [EXIT.crash, EXIT.failed, EXIT.inconclusive, EXIT.regression, EXIT.ok];

/** The worst of several suites' exit codes (an unknown code counts as a crash). */
export function worstExit(codes: readonly number[]): number {
  const known = codes.map((c) => (rank.includes(c as (typeof rank)[number]) ? c : EXIT.crash));
  return rank.find((c) => known.includes(c)) ?? EXIT.ok;
}

/** What a suite's report says could not be judged for want of SQL, as `scenario · checker` lines. */
export function noDatabaseVerdicts(report: RunReport): string[] {
  return report.scenarios.flatMap((s) => s.verdicts.filter((v) => v.status === 'indeterminate' && v.summary.startsWith(NO_DATABASE)).map((v) => `${s.name} · ${v.checker}`));
}

function runSuiteProcess(suite: StressSuite, settings: StressSettings): Promise<number> {
  const args = [
    ...(settings.profile ? [`--profile=${settings.profile}`] : []),
    ...(settings.target ? ['--target', settings.target] : []),
    ...settings.steps.flatMap((s) => ['--step', s]),
  ];
  // The report goes under --out by the suite's own project, whatever Nx task started us.
  const env: NodeJS.ProcessEnv = { ...process.env, CRUCIBLE_REPORTS_DIR: settings.outDir };
  delete env['NX_TASK_TARGET_PROJECT'];
  const child = spawn(process.execPath, ['--conditions=@crucible/source', '--import', import.meta.resolve('tsx'), suite.file, ...args], { cwd: suite.dir, env, stdio: ['ignore', 'inherit', 'inherit'] });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward).on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('error', () => resolve(EXIT.crash));
    child.on('exit', (code) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      resolve(code ?? EXIT.crash);
    });
  });
}

/**
 * `crucible stress`: runs each chosen app's built-in stress suite, one after the other (they
 * share the machine's cores), against the deployed system of `--target` (or, without it, each
 * on its embedded system), with reports under `<out>/<project>/stress.*`. Prints which verdicts
 * were inconclusive for want of database access and resolves to the worst suite's exit code.
 */
export async function stressCommand(settings: StressSettings, io: CommandIo, suites: readonly StressSuite[] = stressSuites()): Promise<number> {
  const codes: number[] = [];
  const lines: string[] = [];
  for (const app of settings.apps) {
    const suite = suites.find((s) => s.app === app) as StressSuite;
    const file = path.join(settings.outDir, suite.project, 'stress.json');
    // An earlier run's report must not stand in for this one's.
    rmSync(file, { force: true });
    const code = await runSuiteProcess(suite, settings);
    codes.push(code);
    const report = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunReport) : undefined;
    lines.push(`${app} stress: exit ${code}${report ? ` · ${file}` : ' · no report'}`);
    for (const v of report ? noDatabaseVerdicts(report) : []) lines.push(`  ${NO_DATABASE}: ${v}`);
  }
  io.out(`crucible stress${settings.target ? ` --target ${settings.target}` : ' (embedded systems)'}\n${lines.join('\n')}\n`);
  return worstExit(codes);
}
