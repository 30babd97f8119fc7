import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('../tests/fixtures/failing-suite.ts', import.meta.url));

describe('a deliberately failing threshold', { timeout: 60_000 }, () => {
  it('makes the suite exit 1 and is named in the console, JSON, Markdown, JUnit and HTML reports', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'crucible-fail-'));
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--conditions=@crucible/source', '--import', 'tsx', FIXTURE],
        { env: { ...process.env, CRUCIBLE_REPORTS_DIR: dir, GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md') }, cwd: path.dirname(FIXTURE) },
        (error, out) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout: out }),
      );
    });
    expect(code).toBe(1);
    const expr = 'answered: count==0';
    expect(stdout).toContain(`threshold ${expr}`);
    expect(stdout).toMatch(/FAILED/);
    const base = path.join(dir, 'fixture', 'stress');
    const json = JSON.parse(await readFile(`${base}.json`, 'utf8')) as { passed: boolean; scenarios: Array<{ thresholds: Array<{ expression: string; passed: boolean }> }> };
    expect(json.passed).toBe(false);
    expect(json.scenarios[0]?.thresholds).toEqual([expect.objectContaining({ expression: expr, passed: false }), expect.objectContaining({ expression: 'rate<0.5', passed: true })]);
    expect(await readFile(`${base}.md`, 'utf8')).toContain(`\`${expr}\``);
    const junit = await readFile(`${base}.xml`, 'utf8');
    expect(junit).toMatch(/<testcase classname="impossible count" name="threshold answered: count==0" time="0">\s*<failure message="threshold &quot;answered: count==0&quot; failed: answered count = 20/);
    expect(junit).toContain('failures="1"');
    expect(await readFile(`${base}.html`, 'utf8')).toContain('answered: count==0');
    // The CI job summary got the Markdown too.
    expect(await readFile(path.join(dir, 'summary.md'), 'utf8')).toContain(`\`${expr}\``);
  });
});
