import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from '@crucible/db';
import type { NextFunction, Request, Response } from 'express';
import type { Kysely } from 'kysely';
import { ServiceError } from './errors.js';

/**
 * The project an authenticated request may read and write. Repositories take it as an
 * argument, so a query without a project scope cannot be written.
 */
export interface ProjectScope {
  readonly projectId: string;
}

/** A new random API key (`ck_` + 32 url-safe characters); only its hash is stored. */
export function generateApiKey(): string {
  return `ck_${randomBytes(24).toString('base64url')}`;
}

/** sha256 of a key, hex. Keys are high-entropy random strings, so a fast hash is right here. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/**
 * Verifies API keys against `api_keys`, caching a verified key for `ttlMs` so the hot path
 * costs no query, no hash and no promise. Bounded: past `maxEntries` the oldest entry goes.
 * Only verified keys are cached, so unknown keys sent at random cannot fill it.
 *
 * A key in use is verified again ahead of its expiry: a hit in the last quarter of its TTL
 * starts one lookup in the background and is answered from the cache meanwhile, so a busy
 * key never expires on a request's path (with many projects, every key's expiry would
 * otherwise put a query in front of its requests every `ttlMs`). The TTL stays a hard bound:
 * a revoked key is refused at the latest `ttlMs` after it was last verified, and the moment
 * a background lookup finds it gone. Concurrent misses of one key share one lookup.
 */
export class ApiKeyVerifier {
  readonly #db: Kysely<Database>;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  // Keyed by the key itself, not its hash: the request carries the key in this process's
  // memory anyway, and hashing it on every request was the costliest step of a cache hit.
  readonly #cache = new Map<string, { scope: ProjectScope; expires: number; refreshAt: number }>();
  readonly #inFlight = new Map<string, Promise<ProjectScope | undefined>>();

  constructor(db: Kysely<Database>, options: { ttlMs: number; maxEntries?: number }) {
    this.#db = db;
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /**
   * The scope of a key, or `undefined` when the key is unknown or revoked: the scope itself
   * on a cache hit, a promise when the database has to be asked.
   */
  verify(key: string): ProjectScope | undefined | Promise<ProjectScope | undefined> {
    const hit = this.#cache.get(key);
    if (hit !== undefined) {
      const now = Date.now();
      if (hit.expires > now) {
        // A failed refresh leaves the entry to expire as it would have; the request path then asks again.
        if (now >= hit.refreshAt && !this.#inFlight.has(key)) this.#lookup(key).catch(() => undefined);
        return hit.scope;
      }
    }
    return this.#lookup(key);
  }

  #lookup(key: string): Promise<ProjectScope | undefined> {
    let pending = this.#inFlight.get(key);
    if (pending === undefined) {
      pending = this.#query(key).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  async #query(key: string): Promise<ProjectScope | undefined> {
    const row = await this.#db
      .selectFrom('api_keys')
      .select('project_id')
      .where('key_hash', '=', hashApiKey(key))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) {
      this.#cache.delete(key);
      return undefined;
    }
    const scope: ProjectScope = Object.freeze({ projectId: row.project_id });
    if (this.#ttlMs > 0) {
      const now = Date.now();
      this.#cache.delete(key);
      if (this.#cache.size >= this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(key, { scope, expires: now + this.#ttlMs, refreshAt: now + this.#ttlMs * 0.75 });
    }
    return scope;
  }
}

/**
 * Express middleware: requires `Authorization: Bearer <api key>` and stores the scope. A
 * cached key passes synchronously (no promise, no extra tick on the hot path).
 */
export function requireApiKey(verifier: ApiKeyVerifier) {
  const admit = (res: Response, next: NextFunction, scope: ProjectScope | undefined): void => {
    if (!scope) throw new ServiceError('unauthorized', 'invalid API key');
    res.locals['scope'] = scope;
    next();
  };
  return (req: Request, res: Response, next: NextFunction): void | Promise<void> => {
    const key = bearer(req);
    if (!key) throw new ServiceError('unauthorized', 'missing API key: send Authorization: Bearer <key>');
    const found = verifier.verify(key);
    if (found instanceof Promise) return found.then((scope) => admit(res, next, scope));
    admit(res, next, found);
  };
}

/** The scope `requireApiKey` stored for this request. */
export function scopeOf(res: Response): ProjectScope {
  const scope = res.locals['scope'] as ProjectScope | undefined;
  if (!scope) throw new ServiceError('unauthorized', 'missing API key: send Authorization: Bearer <key>');
  return scope;
}

/**
 * Resolves the project a request names (`project_id` in a body, `project` in a query)
 * against the key's scope: absent means the key's own project; another project is
 * answered as not found, never served.
 */
export function resolveProject(scope: ProjectScope, requested: string | undefined): string {
  if (requested === undefined || requested === scope.projectId) return scope.projectId;
  throw new ServiceError('project_not_found', `project ${requested} not found for this API key`);
}

/** Express middleware: requires `Authorization: Bearer <admin token>`. */
export function requireAdmin(adminToken: string) {
  const expected = createHash('sha256').update(adminToken).digest();
  return (req: Request, _res: Response, next: NextFunction): void => {
    const token = bearer(req);
    if (!token) throw new ServiceError('unauthorized', 'missing admin token: send Authorization: Bearer <CRUCIBLE_ADMIN_TOKEN>');
    const given = createHash('sha256').update(token).digest();
    if (!timingSafeEqual(given, expected)) throw new ServiceError('unauthorized', 'invalid admin token');
    next();
  };
}
