import type { OutcomeStatus, RunReport } from '@crucible/contracts';
import { runStatus, scenarioStatus, starvedText, thresholdStatus } from '../thresholds.js';
import { breakdownRows, failureLines, inconclusiveLines, ms, num, pct, scenarioLabel, statusWord } from './format.js';

/** Options of {@link renderConsole}. */
export interface ConsoleRenderOptions {
  /** ANSI colours (default: off). */
  readonly color?: boolean;
}

/**
 * A plain-text summary for a terminal: one block per scenario, thresholds and verdicts with
 * ✓/✗, then the failures again at the bottom so they are the last thing a person reads.
 */
export function renderConsole(report: RunReport, options: ConsoleRenderOptions = {}): string {
  const c = options.color
    ? { red: (s: string) => `\x1b[31m${s}\x1b[0m`, green: (s: string) => `\x1b[32m${s}\x1b[0m`, bold: (s: string) => `\x1b[1m${s}\x1b[0m`, dim: (s: string) => `\x1b[2m${s}\x1b[0m` }
    : { red: (s: string) => s, green: (s: string) => s, bold: (s: string) => s, dim: (s: string) => s };
  const yellow = options.color ? (s: string) => `\x1b[33m${s}\x1b[0m` : (s: string) => s;
  const mark = (st: OutcomeStatus) => (st === 'pass' ? c.green('✓') : st === 'fail' ? c.red('✗') : yellow('?'));
  const word = (st: OutcomeStatus) => (st === 'pass' ? c.green : st === 'fail' ? c.red : yellow)(statusWord(report));
  const out: string[] = [];
  const r = report.run;
  out.push(c.bold(`${r.suite}${r.target ? ` (${r.target})` : ''} — ${word(runStatus(report))}`));
  out.push(c.dim(`run ${r.id} · ${r.started_at} · commit ${r.commit ?? 'unknown'} · node ${r.node} · ${r.machine.cpus} cpus`));
  for (const s of report.scenarios) {
    out.push('');
    out.push(`${c.bold(scenarioLabel(s))} ${c.dim(`[${s.executor}${s.segment !== '0:1' ? `, segment ${s.segment}` : ''}]`)} ${mark(scenarioStatus(s))}`);
    const target = s.rps.target === null ? '' : ` (target ${num(s.rps.target)})`;
    out.push(`  requests ${s.requests}  ok ${s.successes}  errors ${pct(s.error_rate)}  dropped ${s.dropped_iterations}  rps ${num(s.rps.achieved)}${target}  ${num(s.duration_s)} s`);
    const l = s.latency_ms;
    if (l) {
      out.push(`  latency (${s.latency_basis === 'intended' ? 'from intended start' : 'from send'}) p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p95 ${ms(l.p95)}  p99 ${ms(l.p99)}  p99.9 ${ms(l.p999)}  max ${ms(l.max)}`);
    }
    if (s.aborted) out.push(c.red(`  aborted at ${num(s.aborted.at_s)} s: threshold "${s.aborted.threshold}" failed (${num(s.aborted.actual)}); the rest of the schedule was not run`));
    if (s.schedule_lag_ms) out.push(c.dim(`  start lag (generator) p50 ${ms(s.schedule_lag_ms.p50)}  p99 ${ms(s.schedule_lag_ms.p99)}  max ${ms(s.schedule_lag_ms.max)}`));
    const g = s.generator;
    // Starved with nothing left unjudged (a burst judged on correctness alone) is context, not news.
    const judgedAnyway = !s.thresholds.some((t) => thresholdStatus(t) === 'inconclusive');
    if (g?.starved) out.push((judgedAnyway ? c.dim : yellow)(`  ${judgedAnyway ? '' : '? '}${starvedText(g)}: ${g.reason ?? ''}${judgedAnyway ? ' (no latency or throughput threshold to judge)' : ''}`));
    else if (g) out.push(c.dim(`  generator: event-loop delay p99 ${ms(g.loop_delay_p99_ms)}, CPU share ${g.cpu_share === null ? '–' : pct(g.cpu_share)}, load ${num(g.load_per_core)} per core`));
    for (const [value, e] of breakdownRows(s)) {
      out.push(`  ${s.breakdown?.tag} ${value}: ${e.requests} requests, ${e.errors} errors, p50 ${ms(e.latency_ms?.p50)}  p99 ${ms(e.latency_ms?.p99)}`);
    }
    const errors = Object.entries(s.errors);
    if (errors.length > 0) out.push(`  error breakdown: ${errors.map(([k, v]) => `${k} ×${v}`).join(', ')}`);
    for (const [name, ch] of Object.entries(s.checks)) {
      out.push(`  ${ch.fails === 0 ? c.green('✓') : c.red('✗')} check ${name}: ${ch.passes} passed, ${ch.fails} failed`);
    }
    for (const t of s.thresholds) {
      out.push(`  ${mark(thresholdStatus(t))} threshold ${t.expression}  actual ${num(t.actual)}${t.passed ? '' : `  — ${t.message ?? ''}`}`);
    }
    for (const v of s.verdicts) {
      const mark = v.status === 'pass' ? c.green('✓') : v.status === 'fail' ? c.red('✗') : '?';
      out.push(`  ${mark} verdict ${v.checker}: ${v.status} — ${v.summary}`);
    }
    for (const e of s.evidence) out.push(c.dim(`  evidence: ${e.title} (${e.kind})`));
  }
  if (report.comparison) {
    out.push('');
    out.push(`baseline ${report.comparison.baseline_id} (${report.comparison.method}): ${report.comparison.regressed ? c.red('REGRESSED') : (report.comparison.unjudged ?? []).length > 0 ? yellow(`INCONCLUSIVE: ${(report.comparison.unjudged ?? []).length} figure(s) not compared`) : c.green('no regression')}`);
  }
  const inconclusive = inconclusiveLines(report);
  if (inconclusive.length > 0) {
    out.push('');
    out.push(yellow(c.bold('inconclusive (neither passed nor failed):')));
    for (const f of inconclusive) out.push(yellow(`  ? ${f}`));
  }
  const failures = failureLines(report);
  if (failures.length > 0) {
    out.push('');
    out.push(c.red(c.bold('failures:')));
    for (const f of failures) out.push(c.red(`  ✗ ${f}`));
  }
  return out.join('\n') + '\n';
}
