import { taskCursorSchema, type TaskCursor } from '@crucible/contracts';
import { ServiceError } from '@crucible/service-kit';

/** Encodes a page position as the opaque cursor clients send back. */
export function encodeCursor(cursor: TaskCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

const invalid = (why: string) =>
  new ServiceError('validation_failed', `query.cursor: ${why}; pass the next_cursor of a previous page`, {
    details: [{ path: 'query.cursor', message: why }],
  });

/**
 * Decodes a cursor from `GET /tasks`, or throws `validation_failed` naming `query.cursor`.
 * The timestamp is checked to be a real instant (no 31 February) so PostgreSQL never sees
 * a value it would refuse.
 */
export function decodeCursor(text: string): TaskCursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not a cursor this API issued');
  }
  const parsed = taskCursorSchema.safeParse(value);
  if (!parsed.success) throw invalid('not a cursor this API issued');
  const [at] = parsed.data;
  const asDate = new Date(at);
  if (Number.isNaN(asDate.getTime()) || asDate.getUTCFullYear() < 1970 || asDate.toISOString().slice(0, 19) !== at.slice(0, 19)) {
    throw invalid('holds an impossible timestamp');
  }
  return parsed.data;
}
