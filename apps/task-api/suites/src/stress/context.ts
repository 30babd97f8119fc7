// What every step of the task-api stress suite shares: both replicas, the five seeded
// projects and their keys, and the few reads of an answer the steps all make.
import { healthResponseSchema, type HealthResponse } from '@crucible/contracts';
import { decodeHistogram, HttpClient, percentileMs, type HttpRequest, type HttpResponse, type ScenarioResult } from '@crucible/load-engine';
import { errorCodeOf } from '@crucible/suite-kit';

/** What the steps share, built once the system is up. */
export interface StressContext {
  readonly replicas: Replicas;
  /** The five seeded projects. */
  readonly projects: readonly string[];
  /** API key of each seeded project. */
  readonly keys: Readonly<Record<string, string>>;
  /** The task ids each project was seeded with (ids differ between projects). */
  readonly seeded: WrittenIds;
}

/** Task ids by the project that wrote them: what the SQL isolation check holds the table to. */
export type WrittenIds = Readonly<Record<string, readonly string[]>>;

/**
 * Every replica of the task API, spoken to round-robin (the testbed has no load balancer;
 * the client spreads requests itself).
 */
export class Replicas {
  readonly #clients: HttpClient[];
  constructor(
    readonly urls: readonly string[],
    connections: number,
  ) {
    this.#clients = urls.map((u) => new HttpClient(u, { connections }));
  }
  /** Sends the request of iteration `i` to replica `i mod n`. */
  request(i: number, req: HttpRequest): Promise<HttpResponse> {
    return (this.#clients[i % this.#clients.length] as HttpClient).request(req);
  }
  async close(): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.destroy().catch(() => undefined)));
  }
}

/** The seeded project iteration `i` speaks for (round-robin over the five). */
export function projectOf(ctx: StressContext, i: number): string {
  return ctx.projects[i % ctx.projects.length] as string;
}

/** `Authorization` header of a project's key. */
export function bearer(key: string): { authorization: string } {
  return { authorization: `Bearer ${key}` };
}

/** Sends iteration `i`'s request with the key of the seeded `project`. */
export function requestAs(ctx: StressContext, i: number, project: string, req: HttpRequest): Promise<HttpResponse> {
  return ctx.replicas.request(i, { ...req, headers: { ...req.headers, ...bearer(ctx.keys[project] as string) } });
}

/** The answer's `error.code` (the kit's one extractor), `undefined` for a body that is not JSON. */
export function codeOf(res: HttpResponse): string | undefined {
  try {
    return errorCodeOf(res.json());
  } catch {
    return undefined;
  }
}

/** `/health` of every replica. */
export async function healthOf(urls: readonly string[]): Promise<HealthResponse[]> {
  return Promise.all(urls.map(async (url) => healthResponseSchema.parse(await (await fetch(`${url}/health`)).json())));
}

/** The p-th latency percentile of a result, in ms (three decimals). */
export function latencyPercentile(result: ScenarioResult, p: number): number {
  const h = decodeHistogram(result.histogram);
  const v = percentileMs(h, p);
  h.destroy();
  return Math.round(v * 1000) / 1000;
}

/** What the kept iterations of a result returned, in iteration order (iterations that threw are left out). */
export function keptValues<R>(result: ScenarioResult): R[] {
  return [...result.outcomes].sort((a, b) => a.index - b.index).flatMap((o) => (o.value === undefined ? [] : [o.value as R]));
}
