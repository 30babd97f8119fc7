// Test context of the task API: a fresh migrated database, the service in process on a
// free port, project keys through the real admin endpoint, and a separate connection for
// SQL evidence. Used by every test file of this app.
import { createProjectResponseSchema, errorEnvelopeSchema, type ErrorEnvelope } from '@crucible/contracts';
import { createDb, createPool, type Database } from '@crucible/db';
import { createService, loadConfig, type Service } from '@crucible/service-kit';
import { testAdminToken, testDatabase, testServiceEnv } from '@crucible/testbed/testing';
import type { Kysely } from 'kysely';
import { createTaskApi } from '../src/app.js';
import { loadTaskApiOptions, type TaskApiOptions } from '../src/config.js';

/** An answer read in full: status, headers, parsed JSON (or text) and raw bytes. */
export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  bytes: Buffer;
}

/** The error envelope of an answer (fails the test when the body is not one). */
export function envelope(answer: Answer): ErrorEnvelope['error'] {
  return errorEnvelopeSchema.parse(answer.body).error;
}

/** A client bound to one API key. */
export interface ApiClient {
  readonly key: string;
  request<T = unknown>(method: string, path: string, init?: { json?: unknown; body?: NonNullable<RequestInit['body']>; headers?: Record<string, string> }): Promise<Answer<T>>;
}

/** Sends a request and reads the whole answer. */
export async function send<T = unknown>(
  url: string,
  method: string,
  path: string,
  init: { json?: unknown; body?: NonNullable<RequestInit['body']>; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(init.json);
  }
  const res = await fetch(url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const bytes = Buffer.from(await res.arrayBuffer());
  const type = res.headers.get('content-type') ?? '';
  let parsed: unknown = bytes.toString('utf8');
  if (type.includes('application/json') && bytes.length > 0) {
    try {
      parsed = JSON.parse(parsed as string);
    } catch {
      // An artifact stored as application/json need not be valid JSON: keep the text.
    }
  }
  return { status: res.status, headers: res.headers, body: parsed as T, bytes };
}

/** A running task API on a fresh database. */
export interface TaskApiContext extends AsyncDisposable {
  readonly url: string;
  readonly service: Service;
  /** A separate connection to the service's database, for SQL evidence and seeding. */
  readonly db: Kysely<Database>;
  readonly databaseUrl: string;
  /** Creates a project through the admin endpoint and returns a client with its key. */
  project(id: string): Promise<ApiClient>;
  close(): Promise<void>;
}

/**
 * Starts the task API in this process on a fresh database (dropped after the file).
 * `env` adds service-kit or task-api variables; `options` overrides task-api options.
 */
export async function startTaskApi(env: Record<string, string> = {}, options: Partial<TaskApiOptions> = {}): Promise<TaskApiContext> {
  const database = await testDatabase();
  const serviceEnv = testServiceEnv(database, env);
  const service = createService(loadConfig('task-api', serviceEnv), createTaskApi({ ...loadTaskApiOptions(serviceEnv), ...options }));
  const url = await service.listen();
  const db = createDb(createPool({ connectionString: database.url, max: 2 }));
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= Promise.all([service.close(), db.destroy()]).then(() => {}));
  return {
    url,
    service,
    db,
    databaseUrl: database.url,
    async project(id) {
      const created = await send(url, 'POST', '/admin/projects', { json: { id }, headers: { authorization: `Bearer ${testAdminToken}` } });
      if (created.status !== 201) throw new Error(`creating project ${id}: ${created.status} ${JSON.stringify(created.body)}`);
      const { api_key } = createProjectResponseSchema.parse(created.body);
      return clientFor(url, api_key);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A client that sends `key` as its Bearer token. */
export function clientFor(url: string, key: string): ApiClient {
  return {
    key,
    request(method, path, init = {}) {
      return send(url, method, path, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } });
    },
  };
}
