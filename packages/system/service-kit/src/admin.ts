import { createProjectRequestSchema, type CreateProjectResponse } from '@crucible/contracts';
import { isUniqueViolation, type Database } from '@crucible/db';
import { Router } from 'express';
import type { Kysely } from 'kysely';
import { generateApiKey, hashApiKey, requireAdmin } from './auth.js';
import { ServiceError } from './errors.js';
import { parseInput } from './validate.js';

/** Creates a project and its first API key; the key is returned only here. */
export async function createProject(db: Kysely<Database>, id: string): Promise<CreateProjectResponse> {
  const apiKey = generateApiKey();
  try {
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('projects').values({ id }).execute();
      await tx
        .insertInto('api_keys')
        .values({ project_id: id, key_hash: hashApiKey(apiKey), key_prefix: apiKey.slice(0, 7) })
        .execute();
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new ServiceError('project_exists', `project ${id} already exists`);
    throw err;
  }
  return { project: { id }, api_key: apiKey };
}

/** `POST /admin/projects` behind the admin token. */
export function adminRouter(db: Kysely<Database>, adminToken: string): Router {
  const router = Router();
  router.use('/admin', requireAdmin(adminToken));
  router.post('/admin/projects', async (req, res) => {
    const body = parseInput(createProjectRequestSchema, req.body, 'body');
    res.status(201).json(await createProject(db, body.id));
  });
  return router;
}
