import type { OutcomeStatus, RunReport } from '@crucible/contracts';
import { runStatus, scenarioStatus, starvedText, thresholdStatus } from '../thresholds.js';
import { breakdownRows, failureLines, inconclusiveLines, ms, num, pct, scenarioLabel } from './format.js';

const ICON: Record<OutcomeStatus, string> = { pass: '✅', fail: '❌', inconclusive: '⚠️' };

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * GitHub-flavoured Markdown: a verdict line, one table row per scenario, then per scenario its
 * thresholds, verdicts, checks and evidence. Fit for `$GITHUB_STEP_SUMMARY`.
 */
export function renderMarkdown(report: RunReport): string {
  const r = report.run;
  const out: string[] = [];
  const status = runStatus(report);
  out.push(`## ${ICON[status]} ${r.suite}${r.target ? ` · ${r.target}` : ''} — ${({ pass: 'passed', fail: 'FAILED', inconclusive: 'INCONCLUSIVE' } as const)[status]}`);
  out.push('');
  out.push(`Run \`${r.id}\` · ${r.started_at} → ${r.finished_at} · commit \`${r.commit ?? 'unknown'}\` · Node ${r.node} · ${r.machine.cpus} CPUs, ${r.machine.memory_gb} GB${r.profile ? ` · profile ${r.profile}` : ''}`);
  if (report.crash) out.push('', `> **Crashed:** ${cell(report.crash)}`);
  if (Object.keys(r.config).length > 0) out.push('', '<details><summary>Run configuration</summary>', '', '```json', JSON.stringify(r.config, null, 2), '```', '', '</details>');
  out.push('');
  out.push('| scenario | executor | requests | errors | dropped | rps (target) | p50 | p95 | p99 | p99.9 | max | result |');
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const s of report.scenarios) {
    const l = s.latency_ms;
    out.push(
      `| ${cell(scenarioLabel(s))} | ${s.executor} | ${s.requests} | ${pct(s.error_rate)} | ${s.dropped_iterations} | ${num(s.rps.achieved)}${s.rps.target === null ? '' : ` (${num(s.rps.target)})`} | ${ms(l?.p50)} | ${ms(l?.p95)} | ${ms(l?.p99)} | ${ms(l?.p999)} | ${ms(l?.max)} | ${ICON[scenarioStatus(s)]} |`,
    );
  }
  for (const s of report.scenarios) {
    const rows = breakdownRows(s);
    const hasDetail = rows.length + (s.schedule_lag_ms || s.generator?.starved ? 1 : 0) + s.thresholds.length + s.verdicts.length + Object.keys(s.checks).length + Object.keys(s.errors).length + s.evidence.length > 0;
    if (!hasDetail) continue;
    out.push('', `### ${cell(scenarioLabel(s))}`, '');
    if (s.aborted) out.push(`> ⛔ **Aborted at ${s.aborted.at_s} s:** threshold \`${cell(s.aborted.threshold)}\` failed (${s.aborted.actual}); the rest of the schedule was not run.`, '');
    if (s.generator?.starved) out.push(`> ⚠️ **Inconclusive:** ${cell(starvedText(s.generator))}: ${cell(s.generator.reason ?? '')}. Latency and throughput thresholds are neither passed nor failed.`, '');
    if (s.schedule_lag_ms) out.push(`Start lag of the load generator (actual − intended start): p50 ${ms(s.schedule_lag_ms.p50)}, p99 ${ms(s.schedule_lag_ms.p99)}, max ${ms(s.schedule_lag_ms.max)}.`, '');
    if (rows.length > 0) {
      out.push(`| ${cell(s.breakdown?.tag ?? 'tag')} | requests | errors | p50 | p95 | p99 | max |`, '|---|---:|---:|---:|---:|---:|---:|');
      for (const [value, e] of rows) out.push(`| ${cell(value)} | ${e.requests} | ${e.errors} | ${ms(e.latency_ms?.p50)} | ${ms(e.latency_ms?.p95)} | ${ms(e.latency_ms?.p99)} | ${ms(e.latency_ms?.max)} |`);
      out.push('');
    }
    if (s.thresholds.length > 0) {
      out.push('| threshold | metric | actual | result |', '|---|---|---:|---|');
      for (const t of s.thresholds) out.push(`| \`${cell(t.expression)}\` | ${t.metric} | ${num(t.actual)} | ${({ pass: '✅ pass', fail: `❌ ${cell(t.message ?? 'fail')}`, inconclusive: `⚠️ ${cell(t.message ?? 'inconclusive')}` } as const)[thresholdStatus(t)]} |`);
      out.push('');
    }
    if (s.verdicts.length > 0) {
      out.push('| verdict | status | summary | counts |', '|---|---|---|---|');
      for (const v of s.verdicts) {
        const mark = v.status === 'pass' ? '✅' : v.status === 'fail' ? '❌' : '❔';
        out.push(`| ${cell(v.checker)} | ${mark} ${v.status} | ${cell(v.summary)} | ${cell(Object.entries(v.counts).map(([k, n]) => `${k}=${n}`).join(', '))} |`);
      }
      out.push('');
    }
    const checks = Object.entries(s.checks);
    if (checks.length > 0) {
      out.push('| check | passed | failed |', '|---|---:|---:|');
      for (const [name, c] of checks) out.push(`| ${cell(name)} | ${c.passes} | ${c.fails} |`);
      out.push('');
    }
    const errors = Object.entries(s.errors);
    if (errors.length > 0) out.push(`Errors: ${errors.map(([k, v]) => `\`${cell(k)}\` ×${v}`).join(', ')}`, '');
    for (const e of s.evidence) {
      const body = typeof e.content === 'string' ? e.content : JSON.stringify(e.content, null, 2);
      out.push(`<details><summary>${cell(e.title)}</summary>`, '', '```' + (e.kind === 'json' ? 'json' : 'text'), body, '```', '', '</details>', '');
    }
  }
  if (report.comparison) {
    const c = report.comparison;
    out.push('', `### Baseline \`${c.baseline_id}\` — ${c.regressed ? '❌ regressed' : '✅ no regression'}`, '', `Method: ${c.method}`, '');
    out.push('| scenario | figure | baseline | current | change | tolerance | result |', '|---|---|---:|---:|---:|---:|---|');
    for (const f of c.figures) {
      out.push(`| ${cell(f.scenario)} | ${f.figure} | ${num(f.baseline)} | ${num(f.current)} | ${f.change_pct === null ? '–' : `${f.change_pct.toFixed(1)} %`} | ±${num(f.tolerance)} | ${f.regressed ? '❌ regressed' : '✅'} |`);
    }
  }
  const inconclusive = inconclusiveLines(report);
  if (inconclusive.length > 0) {
    out.push('', '**Inconclusive** (neither passed nor failed)', '');
    for (const f of inconclusive) out.push(`- ⚠️ ${cell(f)}`);
  }
  const failures = failureLines(report);
  if (failures.length > 0) {
    out.push('', '**Failures**', '');
    for (const f of failures) out.push(`- ❌ ${cell(f)}`);
  }
  return out.join('\n') + '\n';
}
