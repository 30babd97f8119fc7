// Shared plumbing of the task-api stress suite: replicas, seeding and /health figures.
import { healthResponseSchema, type HealthResponse } from '@crucible/contracts';
import type { Database } from '@crucible/db';
import { EngineEvents, HttpClient, startLiveSink, type HttpRequest, type HttpResponse, type RunResult, type Sink } from '@crucible/load-engine';
import { sql, type Kysely } from 'kysely';

/** `/health` of every replica. */
export async function healthOf(urls: readonly string[]): Promise<HealthResponse[]> {
  return Promise.all(urls.map(async (url) => healthResponseSchema.parse(await (await fetch(`${url}/health`)).json())));
}

/** Sum of `acquire_timeouts` over the replicas (pool exhaustion since start). */
export async function acquireTimeouts(urls: readonly string[]): Promise<number> {
  return (await healthOf(urls)).reduce((n, h) => n + (h.pool.acquire_timeouts ?? 0), 0);
}

/**
 * Every replica of an app, spoken to round-robin (there is no load balancer in the testbed;
 * the client spreads requests itself). `pick(i)` gives the client of iteration `i`.
 */
export class Replicas {
  readonly clients: HttpClient[];
  constructor(readonly urls: readonly string[], connections: number) {
    this.clients = urls.map((u) => new HttpClient(u, { connections }));
  }
  request(i: number, req: HttpRequest): Promise<HttpResponse> {
    return (this.clients[i % this.clients.length] as HttpClient).request(req);
  }
  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.destroy().catch(() => undefined)));
  }
}

/** `error.code` of an envelope, if the body is one. */
export function errorCodeOf(res: HttpResponse): string | undefined {
  try {
    const code = (res.json() as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** How the seeded data set looks (the "realistic data"). */
export const seedShape = { tasksPerProject: 1000, registryRowsTotal: 100 } as const;

/**
 * Seeds realistic data straight into the database (setup, not the thing under test): per
 * project 1,000 tasks (70 % pending, 10 % in progress, 20 % done; priorities 0–9; created
 * over the last day) and 100 `id_registry` rows spread over the projects.
 */
export async function seedProjects(db: Kysely<Database>, projects: readonly string[]): Promise<void> {
  for (const p of projects) {
    await sql`
      insert into tasks (project_id, task_id, title, status, priority, payload, claimed_by, created_at, updated_at)
      select ${p}, 'seed-' || lpad(g::text, 4, '0'), 'seeded task ' || g || ' of ' || ${p},
        case when g % 10 < 7 then 'pending' when g % 10 = 7 then 'in_progress' else 'done' end,
        (g * 7) % 10,
        jsonb_build_object('component', 'c' || (g % 12), 'estimate', g % 8),
        case when g % 10 = 7 then 'seed-worker' end,
        now() - make_interval(secs => (${seedShape.tasksPerProject} - g) * 60),
        now() - make_interval(secs => (${seedShape.tasksPerProject} - g) * 30)
      from generate_series(1, ${seedShape.tasksPerProject}) g`.execute(db);
  }
  const perProject = Math.ceil(seedShape.registryRowsTotal / projects.length);
  const rows = projects.flatMap((p) =>
    Array.from({ length: perProject }, (_, i) => ({ project_id: p, sequence_type: `DOC${String(i).padStart(2, '0')}`, last_assigned_id: (i * 37) % 500 })),
  );
  await db.insertInto('id_registry').values(rows.slice(0, seedShape.registryRowsTotal)).execute();
  await sql`analyze tasks`.execute(db);
  await sql`analyze id_registry`.execute(db);
}

/**
 * `--live`: streams every scenario of the suite to the metrics gateway as one run. The engine
 * closes a run's sinks when `run()` returns, and the suite calls `run()` once per scenario,
 * so the gateway sink sits behind a per-suite forwarder and is closed (with one `run_end`)
 * by `end`. The gateway is `CRUCIBLE_GATEWAY_URL` (token `CRUCIBLE_GATEWAY_TOKEN`), or the
 * one started with the system under test.
 */
export async function liveSession(gatewayUrl: string, token: string, runId: string): Promise<{ sink: Sink; dashboardUrl: string; end(result: RunResult): Promise<void> }> {
  const live = await startLiveSink({ gatewayUrl, token, runId });
  const events = new EngineEvents();
  live.sink.attach(events);
  return {
    dashboardUrl: live.dashboardUrl,
    sink: {
      name: 'gateway (whole suite)',
      attach(run) {
        run.on('tick', (t) => events.emit('tick', t));
      },
    },
    async end(result) {
      events.emit('done', { runId, result });
      await live.sink.close?.();
    },
  };
}
