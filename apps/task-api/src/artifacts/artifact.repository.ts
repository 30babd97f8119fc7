import type { ArtifactRow, Database } from '@crucible/db';
import { failpoint, type ProjectScope } from '@crucible/service-kit';
import { sql, type Kysely } from 'kysely';

// Every function takes the key's ProjectScope: an artifact query without a project cannot
// be written through this module.

/** What `PUT` stores. */
export interface ArtifactContent {
  artifactId: string;
  content: Buffer;
  contentType: string;
  sha256: string;
}

/** An artifact's metadata as the repository returns it after a write. */
export type StoredArtifact = Omit<ArtifactRow, 'content'> & { created: boolean };

/** Creates or replaces an artifact; `created` tells which happened. */
export async function upsertArtifact(db: Kysely<Database>, scope: ProjectScope, a: ArtifactContent): Promise<StoredArtifact> {
  return db
    .insertInto('artifacts')
    .values({
      project_id: scope.projectId,
      artifact_id: a.artifactId,
      content: a.content,
      content_type: a.contentType,
      sha256: a.sha256,
      size: a.content.length,
    })
    .onConflict((oc) =>
      oc.columns(['project_id', 'artifact_id']).doUpdateSet((eb) => ({
        content: eb.ref('excluded.content'),
        content_type: eb.ref('excluded.content_type'),
        sha256: eb.ref('excluded.sha256'),
        size: eb.ref('excluded.size'),
        updated_at: sql`now()`,
      })),
    )
    // xmax is 0 only on a freshly inserted row version: the standard upsert "inserted?" test.
    .returning(['project_id', 'artifact_id', 'content_type', 'sha256', 'size', 'created_at', 'updated_at', sql<boolean>`(xmax = 0)`.as('created')])
    .executeTakeFirstOrThrow();
}

/** An artifact of the key's project, bytes included, or `undefined`. */
export async function findArtifact(db: Kysely<Database>, scope: ProjectScope, artifactId: string): Promise<ArtifactRow | undefined> {
  // The planted leak (failpoint `artifacts.get.unscoped`): the id is looked up without the project filter.
  const projectId = failpoint('artifacts.get.unscoped') ? undefined : scope.projectId;
  return db
    .selectFrom('artifacts')
    .selectAll()
    .$if(projectId !== undefined, (qb) => qb.where('project_id', '=', projectId as string))
    .where('artifact_id', '=', artifactId)
    .executeTakeFirst();
}

/**
 * The planted cross-project write (failpoint `artifacts.put.wrong-project`): the newest other
 * project, whose id the artifact is then stored under; the caller's own scope when there is none.
 */
export async function anotherProject(db: Kysely<Database>, scope: ProjectScope): Promise<ProjectScope> {
  const row = await db.selectFrom('projects').select('id').where('id', '<>', scope.projectId).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
  return row ? { projectId: row.id } : scope;
}

/** Deletes an artifact; `false` when the key's project has none by that id. */
export async function deleteArtifact(db: Kysely<Database>, scope: ProjectScope, artifactId: string): Promise<boolean> {
  const row = await db
    .deleteFrom('artifacts')
    .where('project_id', '=', scope.projectId)
    .where('artifact_id', '=', artifactId)
    .returning('artifact_id')
    .executeTakeFirst();
  return row !== undefined;
}
