import { timingSafeEqual } from 'node:crypto';
import { ServiceError, parseInput } from '@crucible/service-kit';
import express, { Router, type Request } from 'express';
import { z } from 'zod';

/**
 * Jobs kept at once; past it the oldest goes. A distributed run's results live here only until
 * `crucible collect` has read them, so a handful is plenty.
 */
export const maxJobs = 64;
/** Largest segment body: a worker's encoded HDR histograms for every scenario (a few hundred KB in practice). */
export const maxSegmentBytes = 16 * 1024 * 1024;
const maxCompletions = 1024;

const jobSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a job name: letters, digits, . _ - (at most 128), starting with a letter or digit');
const jobParams = z.object({ job: jobSchema });
const indexParams = jobParams.extend({ index: z.coerce.number().int().min(0).max(maxCompletions - 1) });
const completions = z.number().int().min(1).max(maxCompletions);
const readyBody = z.strictObject({ completions, at: z.number().int().nonnegative() });
/** What a worker leaves: its segment's encoded run result (kept as given: the gateway never reads it), or why it failed. */
const segmentBody = z.object({ index: z.number().int().nonnegative(), completions, host: z.string().max(256), startAt: z.number(), result: z.unknown().optional(), error: z.string().max(64 * 1024).optional() });

interface Job {
  readonly completions: number;
  readonly ready: Map<number, number>;
  /** Each segment as the JSON text it came in. */
  readonly segments: Map<number, string>;
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The gateway as the results sink of a distributed load run (`crucible worker --results-url`,
 * `crucible collect --results-url`): the start barrier and each worker's encoded segment,
 * per job, in this process's memory.
 *
 * - `PUT /jobs/:job/ready/:index` `{ completions, at }`: worker `index` arrived at the barrier at `at` (its clock, ms).
 * - `PUT /jobs/:job/segments/:index` the worker's segment file (its result, or its error).
 * - `GET /jobs/:job`: `{ job, completions, ready: [{ index, at }], segments: [...] }` in index order.
 *
 * Every route takes the publish token or the admin token as `Authorization: Bearer`. A job's
 * workers and its collect must reach the same gateway process: a job is not shared between
 * replicas (not through Redis, not in PostgreSQL).
 */
export function jobResultsRouter(tokens: { readonly admin: string; readonly publish: string }): Router {
  const jobs = new Map<string, Job>();
  const router = Router();
  const authorized = (req: Request) => {
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const token = m?.[1]?.trim();
    if (!token || !(sameToken(token, tokens.publish) || sameToken(token, tokens.admin))) {
      throw new ServiceError('unauthorized', 'the job results need Authorization: Bearer <GATEWAY_PUBLISH_TOKEN or CRUCIBLE_ADMIN_TOKEN>');
    }
  };
  /** The job, created by the first worker that names it; its completions must agree with the first. */
  const jobOf = (name: string, n: number, field: string): Job => {
    let job = jobs.get(name);
    if (!job) {
      if (jobs.size >= maxJobs) jobs.delete(jobs.keys().next().value as string);
      job = { completions: n, ready: new Map(), segments: new Map() };
      jobs.set(name, job);
    }
    if (job.completions !== n) throw new ServiceError('validation_failed', `${field}: job ${name} has ${job.completions} completions, not ${n}`, { details: [{ path: field, message: `expected ${job.completions}` }] });
    return job;
  };
  const indexWithin = (index: number, n: number) => {
    if (index >= n) throw new ServiceError('validation_failed', `params.index: ${index} is not below the job's ${n} completions`, { details: [{ path: 'params.index', message: `expected 0 … ${n - 1}` }] });
  };

  router.use('/jobs', (req, _res, next) => (authorized(req), next()), express.json({ limit: maxSegmentBytes, strict: true }));

  router.put('/jobs/:job/ready/:index', (req, res) => {
    const { job: name, index } = parseInput(indexParams, req.params, 'params');
    const body = parseInput(readyBody, req.body, 'body');
    indexWithin(index, body.completions);
    const job = jobOf(name, body.completions, 'body.completions');
    job.ready.set(index, body.at);
    res.json({ job: name, completions: job.completions, ready: job.ready.size });
  });

  router.put('/jobs/:job/segments/:index', (req, res) => {
    const { job: name, index } = parseInput(indexParams, req.params, 'params');
    const body = parseInput(segmentBody, req.body, 'body');
    if (body.index !== index) throw new ServiceError('validation_failed', `body.index: ${body.index} is not the index in the path (${index})`, { details: [{ path: 'body.index', message: `expected ${index}` }] });
    indexWithin(index, body.completions);
    const job = jobOf(name, body.completions, 'body.completions');
    job.segments.set(index, JSON.stringify(req.body));
    res.json({ job: name, completions: job.completions, segments: job.segments.size });
  });

  router.get('/jobs/:job', (req, res) => {
    const { job: name } = parseInput(jobParams, req.params, 'params');
    const job = jobs.get(name);
    if (!job) throw new ServiceError('not_found', `no job ${name} on this gateway (no worker has reached it yet, or it was pushed out by ${maxJobs} newer jobs)`);
    const ready = [...job.ready].sort(([a], [b]) => a - b).map(([index, at]) => `{"index":${index},"at":${at}}`);
    const segments = [...job.segments].sort(([a], [b]) => a - b).map(([, text]) => text);
    // The segments go out as the text they came in: no parse and re-encode of large histograms.
    res.type('json').send(`{"job":${JSON.stringify(name)},"completions":${job.completions},"ready":[${ready.join(',')}],"segments":[${segments.join(',')}]}`);
  });

  return router;
}
