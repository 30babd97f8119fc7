import { createHash } from 'node:crypto';
import type { ArtifactMeta } from '@crucible/contracts';
import type { Database } from '@crucible/db';
import { failpoint, ServiceError, type ProjectScope } from '@crucible/service-kit';
import type { Kysely } from 'kysely';
import * as repo from './artifact.repository.js';
import { etagOf } from './etag.js';

/** An artifact ready to be sent: bytes, type and ETag. */
export interface ArtifactBody {
  content: Buffer;
  contentType: string;
  etag: string;
}

// The planted instance-local cache (failpoint `artifacts.cache.instance-local`): this process's
// own copies, kept fresh by its own writes only, so a PUT through another replica never reaches
// them. Bounded, oldest first out; empty unless the failpoint is armed.
const localCopies = new Map<string, ArtifactBody>();
const localKey = (scope: ProjectScope, artifactId: string) => `${scope.projectId}\u0000${artifactId}`;
function keepLocal(key: string, body: ArtifactBody): void {
  localCopies.delete(key);
  localCopies.set(key, body);
  if (localCopies.size > 1024) localCopies.delete(localCopies.keys().next().value as string);
}

/** Stores `content` byte for byte under `artifactId` in the key's project, with its sha256. */
export async function putArtifact(
  db: Kysely<Database>,
  scope: ProjectScope,
  artifactId: string,
  content: Buffer,
  contentType: string,
): Promise<ArtifactMeta> {
  const sha256 = createHash('sha256').update(content).digest('hex');
  if (failpoint('artifacts.put.wrong-project')) {
    // The planted cross-project write: stored under another project, answered from the request
    // as if stored for the caller, so no answer shows where the bytes went.
    const row = await repo.upsertArtifact(db, await repo.anotherProject(db, scope), { artifactId, content, contentType, sha256 });
    return { project_id: scope.projectId, artifact_id: artifactId, content_type: contentType, size: content.length, sha256, etag: etagOf(sha256), created: row.created };
  }
  const row = await repo.upsertArtifact(db, scope, { artifactId, content, contentType, sha256 });
  if (failpoint('artifacts.cache.instance-local')) keepLocal(localKey(scope, artifactId), { content, contentType, etag: etagOf(row.sha256) });
  return {
    project_id: row.project_id,
    artifact_id: row.artifact_id,
    content_type: row.content_type,
    size: row.size,
    sha256: row.sha256,
    etag: etagOf(row.sha256),
    created: row.created,
  };
}

/** An artifact of the key's project; 404 `artifact_not_found` otherwise (also for another project's). */
export async function getArtifact(db: Kysely<Database>, scope: ProjectScope, artifactId: string): Promise<ArtifactBody> {
  const local = failpoint('artifacts.cache.instance-local');
  const copy = local ? localCopies.get(localKey(scope, artifactId)) : undefined;
  if (copy) return copy;
  const row = await repo.findArtifact(db, scope, artifactId);
  if (!row) throw notFound(scope, artifactId);
  const body = { content: row.content, contentType: row.content_type, etag: etagOf(row.sha256) };
  if (local) keepLocal(localKey(scope, artifactId), body);
  return body;
}

/** Deletes an artifact; 404 `artifact_not_found` when the key's project has none by that id. */
export async function deleteArtifact(db: Kysely<Database>, scope: ProjectScope, artifactId: string): Promise<void> {
  localCopies.delete(localKey(scope, artifactId));
  if (!(await repo.deleteArtifact(db, scope, artifactId))) throw notFound(scope, artifactId);
}

function notFound(scope: ProjectScope, artifactId: string): ServiceError {
  return new ServiceError('artifact_not_found', `artifact ${artifactId} not found in project ${scope.projectId}`);
}
