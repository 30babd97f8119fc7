// No instance state: one client's consecutive requests, each to the next replica, get the
// answers one replica would give — documents, artifacts after a PUT through another replica,
// and task pages whose cursor was issued by another replica.
import { createHash, randomBytes } from 'node:crypto';
import { expectVerdict } from '@crucible/checkers';
import { listTasksResponseSchema } from '@crucible/contracts';
import { checksScenario, type SuiteStep } from '@crucible/suite-kit';
import type { ScaleContext } from './context.js';

/** How the shared-state step runs; the defaults are the suite's. */
export interface SharedStatePlan {
  /** Clients, each with a project of its own, run at once (default 3). */
  readonly clients?: number;
  /** PUTs of each client's artifact, each through the next replica (default 6: two laps of 3). */
  readonly rounds?: number;
  /** Tasks each client creates, one replica after another, then pages through (default 12, pages of 5). */
  readonly tasks?: number;
  /** Prefix of the step's project ids (default `shared-state`). */
  readonly projectPrefix?: string;
}

/** One answer that differs from what the state says it must be. */
interface Mismatch {
  readonly kind: 'stale_artifact' | 'resource_mismatch' | 'task_pages_mismatch';
  readonly project: string;
  readonly [field: string]: unknown;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function call(base: string, key: string, method: string, path: string, init: { body?: Buffer | string; headers?: Record<string, string> } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, etag: res.headers.get('etag'), bytes: Buffer.from(await res.arrayBuffer()) };
}

/** One client's session over the replicas: every answer checked against the state it wrote. */
async function session(urls: readonly string[], project: string, key: string, c: number, rounds: number, tasks: number) {
  const n = urls.length;
  const at = (i: number) => urls[i % n] as string;
  const mismatches: Mismatch[] = [];
  let requests = 0;
  let reads = 0;
  const send = (i: number, method: string, path: string, init?: Parameters<typeof call>[4]) => {
    requests++;
    return call(at(i), key, method, path, init);
  };
  // The shared documents: the same bytes and ETag from every replica.
  const names = (JSON.parse((await send(c, 'GET', '/resources')).bytes.toString()) as { items: { name: string }[] }).items.map((i) => i.name);
  for (const name of names) {
    const seen = [];
    for (let r = 0; r < n; r++) seen.push(await send(c + r, 'GET', `/resources/${name}`));
    reads += n;
    const shapes = new Set(seen.map((s) => `${s.status} ${s.etag} ${sha(s.bytes)}`));
    if (shapes.size !== 1) mismatches.push({ kind: 'resource_mismatch', project, resource: name, answers: seen.map((s, r) => ({ replica: (c + r) % n, status: s.status, etag: s.etag })) });
  }
  // One artifact, rewritten through each replica in turn and read back through the others,
  // plainly and with If-None-Match of the ETag the write acknowledged (a current copy answers 304).
  const id = `shared-state-${c}.txt`;
  for (let k = 0; k < rounds; k++) {
    const writer = c + k;
    const content = Buffer.from(`client ${c} round ${k} ${randomBytes(6).toString('hex')}\n`);
    const put = await send(writer, 'PUT', `/artifacts/${id}`, { body: content, headers: { 'content-type': 'text/plain' } });
    if (put.status !== 200 && put.status !== 201) throw new Error(`PUT /artifacts/${id} through replica ${writer % n} answered ${put.status}: ${put.bytes.toString().slice(0, 300)}`);
    for (let r = 1; r <= n - 1; r++) {
      const reader = writer + r;
      const plain = await send(reader, 'GET', `/artifacts/${id}`);
      const conditional = await send(reader, 'GET', `/artifacts/${id}`, { headers: { 'if-none-match': put.etag ?? '' } });
      reads += 2;
      if (plain.status !== 200 || plain.etag !== put.etag || !plain.bytes.equals(content) || conditional.status !== 304) {
        mismatches.push({
          kind: 'stale_artifact',
          project,
          artifact_id: id,
          round: k,
          put_via_replica: writer % n,
          acknowledged_etag: put.etag,
          read_via_replica: reader % n,
          answered: { status: plain.status, etag: plain.etag, bytes_match: plain.bytes.equals(content) },
          if_none_match_status: conditional.status,
        });
      }
    }
  }
  // Tasks created through every replica, then paged through with each page (and so each
  // cursor another replica issued) sent to the next replica: the same list one replica gives.
  const created: string[] = [];
  for (let k = 0; k < tasks; k++) {
    const task_id = `st-${c}-${String(k).padStart(3, '0')}`;
    const res = await send(c + k, 'POST', '/tasks', { body: JSON.stringify({ task_id, title: `shared state ${k}` }), headers: { 'content-type': 'application/json' } });
    if (res.status !== 201) throw new Error(`POST /tasks through replica ${(c + k) % n} answered ${res.status}: ${res.bytes.toString().slice(0, 300)}`);
    created.push(task_id);
  }
  const page = async (i: number, cursor: string | null) => {
    const res = await send(i, 'GET', `/tasks?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (res.status !== 200) throw new Error(`GET /tasks through replica ${i % n} answered ${res.status}: ${res.bytes.toString().slice(0, 300)}`);
    return listTasksResponseSchema.parse(JSON.parse(res.bytes.toString()));
  };
  const paged: string[] = [];
  let cursor: string | null = null;
  for (let p = 0; p === 0 || cursor; p++) {
    const got = await page(c + p, cursor);
    paged.push(...got.items.map((t) => t.task_id));
    cursor = got.next_cursor;
    reads++;
  }
  const whole = JSON.parse((await send(c, 'GET', '/tasks?limit=500')).bytes.toString()) as { items: { task_id: string }[] };
  reads++;
  const one = whole.items.map((t) => t.task_id);
  const missing = created.filter((t) => !paged.includes(t));
  const duplicates = paged.filter((t, i) => paged.indexOf(t) !== i);
  if (paged.join() !== one.join() || missing.length || duplicates.length) {
    mismatches.push({ kind: 'task_pages_mismatch', project, created: created.length, paged: paged.length, one_replica: one.length, missing, duplicates });
  }
  return { mismatches, requests, reads };
}

/**
 * The `shared-state` verdict: `clients` clients, each in a project of its own, send every
 * request to the next replica directly (no balancer between, so which replica answers is
 * known): every shared document must come with the same bytes and ETag from each replica;
 * after each PUT of the client's artifact through one replica, the others must answer the
 * acknowledged ETag and bytes, and 304 to `If-None-Match` of it; and task pages fetched one
 * replica after another must list what one replica lists, every created task once. It fails
 * naming each stale read: the replica written through, the one read, the ETags.
 */
export function sharedState(plan: SharedStatePlan = {}): SuiteStep<ScaleContext> {
  const clients = plan.clients ?? 3;
  const rounds = plan.rounds ?? 6;
  const tasks = plan.tasks ?? 12;
  const prefix = plan.projectPrefix ?? 'shared-state';
  return {
    name: `shared state: ${clients} clients, each request to the next replica`,
    rerunWhenStarved: false,
    async run(ctx, kit) {
      const startedAt = new Date();
      const t0 = performance.now();
      const urls = ctx.replicaUrls;
      const projects = Array.from({ length: clients }, (_, c) => `${prefix}-${c}-${Date.now().toString(36)}`);
      const keys: string[] = [];
      for (const p of projects) keys.push((await kit.sut.createProject(p)).api_key);
      const runs = await Promise.all(projects.map((p, c) => session(urls, p, keys[c] as string, c, rounds, tasks)));
      const mismatches = runs.flatMap((r) => r.mismatches);
      const count = (kind: Mismatch['kind']) => mismatches.filter((m) => m.kind === kind).length;
      const reads = runs.reduce((a, r) => a + r.reads, 0);
      const requests = runs.reduce((a, r) => a + r.requests, 0);
      const artifactReads = clients * rounds * (urls.length - 1) * 2;
      const stale = mismatches.filter((m) => m.kind === 'stale_artifact') as (Mismatch & { read_via_replica: number; put_via_replica: number; acknowledged_etag: string; answered: { etag: string | null } })[];
      const first = stale[0];
      const verdict = expectVerdict(
        'shared-state',
        mismatches.length === 0 && urls.length > 1,
        `${clients} clients × ${urls.length} replicas, ${requests} requests each to the next replica: ${count('stale_artifact')} stale artifact reads of ${artifactReads}` +
          `, ${count('resource_mismatch')} documents answered differently, ${count('task_pages_mismatch')} task lists paged across replicas that differ from one replica's` +
          (first ? ` (first: round ${String(first['round'])} PUT through replica ${first.put_via_replica} acknowledged ${first.acknowledged_etag}; replica ${first.read_via_replica} answered ${first.answered.etag})` : ''),
        { clients, replicas: urls.length, requests, reads, artifact_reads: artifactReads, stale_artifact_reads: count('stale_artifact'), resource_mismatches: count('resource_mismatch'), task_page_mismatches: count('task_pages_mismatch') },
        mismatches.slice(0, 10),
      );
      return checksScenario(`shared state: ${clients} clients over ${urls.length} replicas, ${rounds} PUTs each, ${tasks} tasks paged across replicas`, {
        verdicts: [verdict],
        metrics: { stale_artifact_reads: count('stale_artifact'), shared_state_requests: requests },
        thresholds: ['stale_artifact_reads: value==0'],
        startedAt,
        durationS: (performance.now() - t0) / 1000,
      });
    },
  };
}
