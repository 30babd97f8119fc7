import type { RunReport } from '@crucible/contracts';
import { thresholdStatus } from '../thresholds.js';
import { scenarioLabel } from './format.js';

/** Escapes text for XML attributes and content. */
export function xmlEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

/**
 * JUnit XML: one `<testsuite>` per scenario, one `<testcase>` per threshold and per verdict
 * (a failure carries the message; an inconclusive threshold and an indeterminate verdict are
 * `<skipped>`, counted in `skipped` on their `<testsuite>` and on `<testsuites>`), plus a regression
 * test case per compared figure and an `<error>` when the run crashed.
 */
export function renderJunit(report: RunReport): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  for (const s of report.scenarios) {
    const cases: string[] = [];
    let sFail = 0;
    let sSkip = 0;
    const label = scenarioLabel(s);
    for (const t of s.thresholds) {
      const name = `threshold ${t.expression}`;
      const status = thresholdStatus(t);
      if (status === 'pass') cases.push(`    <testcase classname="${xmlEscape(label)}" name="${xmlEscape(name)}" time="0"/>`);
      else if (status === 'inconclusive') {
        sSkip++;
        cases.push(`    <testcase classname="${xmlEscape(label)}" name="${xmlEscape(name)}" time="0">\n      <skipped message="${xmlEscape(t.message ?? 'inconclusive')}"/>\n    </testcase>`);
      } else {
        sFail++;
        cases.push(
          `    <testcase classname="${xmlEscape(label)}" name="${xmlEscape(name)}" time="0">\n      <failure message="${xmlEscape(t.message ?? `threshold ${t.expression} failed`)}" type="threshold">${xmlEscape(`metric ${t.metric}, actual ${t.actual ?? 'none'}`)}</failure>\n    </testcase>`,
        );
      }
    }
    for (const v of s.verdicts) {
      const name = `verdict ${v.checker}`;
      if (v.status === 'pass') cases.push(`    <testcase classname="${xmlEscape(label)}" name="${xmlEscape(name)}" time="0"/>`);
      else if (v.status === 'indeterminate') {
        sSkip++;
        cases.push(`    <testcase classname="${xmlEscape(label)}" name="${xmlEscape(name)}" time="0">\n      <skipped message="${xmlEscape(`indeterminate: ${v.summary}`)}"/>\n    </testcase>`);
      } else {
        sFail++;
        const detail = JSON.stringify({ counts: v.counts, examples: v.examples.slice(0, 10) }, null, 2);
        cases.push(
          `    <testcase classname="${xmlEscape(label)}" name="${xmlEscape(name)}" time="0">\n      <failure message="${xmlEscape(`verdict ${v.checker} failed: ${v.summary}`)}" type="verdict">${xmlEscape(detail)}</failure>\n    </testcase>`,
        );
      }
    }
    tests += cases.length;
    failures += sFail;
    skipped += sSkip;
    suites.push(
      `  <testsuite name="${xmlEscape(label)}" tests="${cases.length}" failures="${sFail}" errors="0" skipped="${sSkip}" time="${s.duration_s.toFixed(3)}" timestamp="${xmlEscape(s.started_at)}">\n${cases.join('\n')}${cases.length ? '\n' : ''}  </testsuite>`,
    );
  }
  if (report.comparison) {
    const cases = report.comparison.figures.map((f) => {
      const name = `${f.scenario} ${f.figure} vs baseline`;
      return f.regressed
        ? `    <testcase classname="baseline" name="${xmlEscape(name)}" time="0">\n      <failure message="${xmlEscape(`${f.figure} regressed: ${f.baseline} → ${f.current} (tolerance ±${f.tolerance})`)}" type="regression"/>\n    </testcase>`
        : `    <testcase classname="baseline" name="${xmlEscape(name)}" time="0"/>`;
    });
    const fails = report.comparison.figures.filter((f) => f.regressed).length;
    tests += cases.length;
    failures += fails;
    suites.push(`  <testsuite name="baseline ${xmlEscape(report.comparison.baseline_id)}" tests="${cases.length}" failures="${fails}" errors="0" skipped="0">\n${cases.join('\n')}${cases.length ? '\n' : ''}  </testsuite>`);
  }
  if (report.crash) {
    tests++;
    errors++;
    suites.push(`  <testsuite name="run" tests="1" failures="0" errors="1" skipped="0">\n    <testcase classname="run" name="run completes">\n      <error message="${xmlEscape(report.crash)}" type="crash"/>\n    </testcase>\n  </testsuite>`);
  }
  const name = `${report.run.suite}${report.run.target ? ` ${report.run.target}` : ''}`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${xmlEscape(name)}" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}">\n${suites.join('\n')}\n</testsuites>\n`;
}
