import { errorStatus, type ErrorCode, type ErrorEnvelope } from '@crucible/contracts';
import { classifyDbError } from '@crucible/db';

/**
 * The one error class services throw. The literal `code` decides the HTTP status through
 * the registry in `@crucible/contracts`, so a status is never chosen at the throw site.
 *
 * @example
 * throw new ServiceError('task_exists', `task ${id} already exists in project ${project}`);
 */
export class ServiceError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'ServiceError';
  readonly code: C;
  readonly details: unknown;
  /** Seconds, sent as `Retry-After` (503s carry one). */
  readonly retryAfter: number | undefined;

  constructor(code: C, message: string, options: { details?: unknown; retryAfter?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.retryAfter = options.retryAfter ?? (errorStatus[code] === 503 ? 1 : undefined);
  }

  get status(): number {
    return errorStatus[this.code];
  }

  toEnvelope(): ErrorEnvelope {
    return {
      error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) },
    };
  }
}

interface HttpishError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

/**
 * Normalises anything thrown into a {@link ServiceError}, once, at the edge: body-parser
 * errors become 400/413/415, database outages and pool exhaustion a 503 with `Retry-After`,
 * and everything else a 500 that reveals nothing of the cause.
 */
export function normaliseError(err: unknown): ServiceError {
  if (err instanceof ServiceError) return err;
  const db = classifyDbError(err);
  if (db === 'pool_exhausted') {
    return new ServiceError('pool_exhausted', 'no database connection became free in time; retry shortly', { cause: err });
  }
  if (db === 'database_unavailable') {
    return new ServiceError('database_unavailable', 'the database is unavailable; retry shortly', { cause: err });
  }
  const h = (err ?? {}) as HttpishError;
  switch (h.type) {
    case 'entity.parse.failed':
      return new ServiceError('invalid_json', 'request body is not valid JSON', { cause: err });
    case 'entity.too.large':
      return new ServiceError('payload_too_large', 'request body is larger than the limit', { cause: err });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ServiceError('unsupported_media_type', h.message ?? 'unsupported body encoding', { cause: err });
    case 'request.aborted':
      return new ServiceError('validation_failed', 'request was aborted by the client', { cause: err });
    default:
  }
  const status = h.status ?? h.statusCode;
  if (status && status >= 400 && status < 500) {
    return new ServiceError('validation_failed', h.expose && h.message ? h.message : 'bad request', { cause: err });
  }
  return new ServiceError('internal', 'internal error', { cause: err });
}
