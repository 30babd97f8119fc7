import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { InstrumentError } from '@crucible/instrument-kit';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { TaskStats } from './stats.js';

const taskStatsSchema = z.object({
  samples: z.number().int().nonnegative(),
  median_ms: z.number(),
  mad_ms: z.number().nonnegative(),
  mean_ms: z.number(),
  sd_ms: z.number().nonnegative(),
  min_ms: z.number(),
  max_ms: z.number(),
  p75_ms: z.number(),
  p90_ms: z.number(),
  p95_ms: z.number(),
  p99_ms: z.number(),
  p999_ms: z.number(),
  ops_per_s: z.number(),
});

/** A saved baseline: the per-task sample summaries of one run, committed next to the suite. */
export const benchBaselineSchema = z.object({
  schema_version: z.literal(1),
  suite: z.string(),
  saved_at: z.string(),
  machine: z.object({ cpus: z.number().int(), cpu_model: z.string(), platform: z.string() }),
  node: z.string(),
  tasks: z.record(z.string(), taskStatsSchema),
});
export type BenchBaseline = z.infer<typeof benchBaselineSchema>;

/** The baseline at `file`, `undefined` when there is none; a malformed file throws naming it. */
export async function readBaseline(file: string): Promise<BenchBaseline | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = benchBaselineSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new InstrumentError('baseline_invalid', `baseline ${file} is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Writes a baseline from a run's task summaries (pretty JSON, so diffs of it read well). */
export async function writeBaseline(file: string, suite: string, tasks: Readonly<Record<string, TaskStats>>): Promise<BenchBaseline> {
  const baseline: BenchBaseline = {
    schema_version: 1,
    suite,
    saved_at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? 'unknown', platform: `${os.platform()}-${os.arch()}` },
    node: process.version,
    tasks: { ...tasks },
  };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(baseline, null, 2)}\n`);
  return baseline;
}
