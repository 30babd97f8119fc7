/**
 * Failpoints: named places in the services' code where a test plants a defect in the real
 * running system, after etcd's gofail, TiKV's fail-rs and FoundationDB's BUGGIFY. Every
 * verdict Crucible reports is proven on a system with the defect it exists to catch: the
 * planted-defect tests start a real app with `CRUCIBLE_FAILPOINTS=<name>=<probability>` (rare
 * and intermittent, as real bugs are) and show the verdict failing.
 *
 * Off unless `CRUCIBLE_FAILPOINTS` names them; an unknown name stops the service at start-up.
 * The key is the failpoint, the value what it does when it fires.
 */
export const failpoints = {
  'ids.allocate.read-then-write': 'the ID allocation reads last_assigned_id, then writes it back plus count, without the row lock (a lost-update race: concurrent reservations get the same IDs)',
  'ids.reserve.wrong-project': "a reservation is drawn from another project's sequence of the same type and answered to the caller (the other project's sequence advances, the caller's does not)",
  'ids.reserve.uncoalesced': "a reservation is allocated alone, in a transaction of its own that holds its sequence's row lock for 1 ms, instead of in its sequence's batch (group commit off: concurrent reservations of one sequence queue on the row lock one by one, so a burst of 500 takes at least 0.5 s)",
  'ids.reserve.forget-idempotency-key': 'a keyed reservation is neither looked up nor recorded under its Idempotency-Key (a retry allocates a second range)',
  'tasks.create.ack-without-commit': 'POST /tasks answers 201 and rolls the transaction back (an acknowledged write is lost)',
  'tasks.create.wrong-project': "POST /tasks stores the task under another project's id (a cross-project write SQL can see)",
  'tasks.list.unscoped': "GET /tasks lists without the project filter (another project's rows in the answer)",
  'tasks.create.commit-then-503': 'POST /tasks stores the task, then answers 503 as if the database had failed (a commit whose acknowledgement was lost: the client cannot know it landed, and retries)',
  'tasks.create.ignore-idempotency-key': 'POST /tasks neither looks up nor stores its Idempotency-Key (a retried create makes a second task)',
  'tasks.claim.without-lock': 'POST /tasks/claim selects the next pending task without FOR UPDATE SKIP LOCKED, then updates it (two claimers can get one task)',
  'tasks.next.per-project-cost': 'GET /tasks/next spends time proportional to the number of projects active in the last second (latency degrades with more projects)',
  'health.stale-ok': '/health answers from a cached result up to 30 s old (a database outage is not detected)',
  'db.no-recovery-log': 'the service never logs db_recovered when the database answers again (the recovery happens, its record in the log does not)',
  'db.slow-recovery': 'after a database error the service refuses every request with 503 for 15 s (recovery is slow)',
  'gateway.deliver.drop': 'the gateway drops an event on its way to a subscriber (delivery)',
  'gateway.deliver.reorder': 'the gateway swaps an event with the next one on its way to a subscriber (ordering)',
  'gateway.streams.skip-entry': "a gateway replica's Redis Streams reader skips an entry of a run's stream (a message published on another replica never reaches this one's subscribers)",
  'db.pool.leak': 'a connection is sometimes not given back to the pool after use (a release skipped on one code path): leaked connections stay in use until the pool serves nobody',
  'db.acquire.no-timeout': 'waiting for a pooled connection has no deadline (the acquire timeout is not applied to that wait): behind a stuck pool the request hangs instead of a 503',
  'errors.no-retry-after': 'a 503 (database unavailable, pool exhausted) is answered without its Retry-After header',
  'errors.slow-refusal': 'a 503 refusal waits 1.5 s before it is answered (a slow refusal)',
  'errors.unclean-500': 'a database error is answered 500 with a plain-text body instead of the 503 JSON envelope',
  'artifacts.get.unscoped': "GET /artifacts/:id looks the id up without the project filter (another project's bytes for a shared id; a foreign id becomes visible)",
  'artifacts.put.wrong-project': "PUT /artifacts/:id stores the artifact under another project's id and answers from the request, as if stored for the caller (a cross-project write no answer shows)",
  'resources.cache.bypass': 'GET /resources/:name skips the cache and reads the document from disk, counted as a miss (the hit rate falls)',
  'resources.redis.unguarded': "GET /resources/:name lets a Redis error (down, timed out) escape the lookup as a 500 instead of serving the document from disk",
  'artifacts.cache.instance-local': "GET /artifacts/:id answers from this replica's own in-process copy, which PUTs through other replicas never invalidate (a stale read another replica's write does not reach)",
  'tasks.answer.slow': 'the task API holds a request 600 ms before it handles it (answers slower than the user ladder allows)',
  'tasks.cpu.spin': 'the task API busy-waits 20 ms of CPU per request (a hot loop on the request path: CPU per request far above its budget)',
  'tasks.memory.leak': 'the task API keeps 1 MiB per request for as long as it runs (memory that grows with requests served)',
  'tasks.next.serialised': 'GET /tasks/next holds a process-wide lock across a 15 ms section (a lock held across slow work: throughput caps near 66/s per replica)',
  'tasks.ids.no-timeout': "the task API's call to the ID service for a block of task ids has no deadline (no per-call timeout): behind a frozen ID service the call, and every create waiting on it, hangs instead of a fast 503",
  'tasks.ids.no-recovery-log': 'the task API never logs dependency_up when the ID service answers again (the recovery happens, its record in the log does not)',
  'gateway.api.unscoped': "the gateway's GET /api/v1/runs lists runs without the project filter (another project's runs in a key's answer)",
  'gateway.errors.unscoped': "the gateway's GET /api/v1/errors sums the points of every project's runs (the breakdown forgets its project filter)",
  'gateway.trend.slow': "the gateway's trend query waits 150 ms in the database on every call (a dashboard query over its latency budget)",
  'gateway.trend.unindexed': "the gateway's trend query filters on an expression of project_id (project_id || ''), which no index serves: every trend reads all projects' scenario summaries",
  'tasks.ids.local-fallback': 'when the ID service cannot issue a task number, POST /tasks makes one up from the clock instead of refusing (a task id the ID service never issued)',
  'tasks.list.needs-id-service': 'GET /tasks refuses with 503 dependency_unavailable while the breaker to the ID service is not closed (a read needlessly coupled to a dependency it does not use)',
  'tasks.refs.unchecked': 'POST /tasks and PATCH /tasks/:id accept refs without asking the ID service (another project\'s id, or one never issued, is stored as a reference)',
} as const;

/** The name of a failpoint. */
export type FailpointName = keyof typeof failpoints;

/** Whether `name` is a known failpoint. */
export function isFailpointName(name: string): name is FailpointName {
  return Object.hasOwn(failpoints, name);
}
