/**
 * Docker has no engine on these machines, so the image cannot be built here; this checks what
 * can be checked without one, strictly: the one Dockerfile builds every app by its APP argument
 * on Node 24, runs production dependencies only as a non-root user with a /health check, and
 * the compose file builds each app from it, gives each a health check, and starts them in order.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const DOCKER = path.join(ROOT, 'docker');

interface Service {
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
}

describe('docker/ (structure; no engine here to build it)', () => {
  it('one multi-stage Dockerfile: ARG APP, Node 24, production dependencies only, non-root, HEALTHCHECK on /health', async () => {
    const text = await readFile(path.join(DOCKER, 'Dockerfile'), 'utf8');
    const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    expect(lines[0]).toBe('ARG NODE_VERSION=24');
    const froms = lines.filter((l) => l.startsWith('FROM '));
    // The runtime stage last (the default target); the load worker's `cli` stage builds on `build`.
    expect(froms).toEqual(['FROM node:${NODE_VERSION}-bookworm-slim AS build', 'FROM build AS cli', 'FROM node:${NODE_VERSION}-bookworm-slim AS runtime']);
    const cli = lines.slice(lines.indexOf('FROM build AS cli'), lines.indexOf(froms[2] as string));
    expect(cli).toContain('USER node');
    expect(cli.at(-1)).toBe('ENTRYPOINT ["node", "packages/instruments/cli/bin/crucible.mjs"]');
    const runtime = lines.slice(lines.indexOf(froms[2] as string));
    expect(runtime).toContain('ARG APP=task-api');
    expect(runtime.some((l) => /^RUN npm ci --omit=dev\b/.test(l))).toBe(true);
    // Only compiled output reaches the runtime stage: no sources, no tsx.
    expect(runtime.some((l) => l.startsWith('COPY --from=build') && l.includes('/out'))).toBe(true);
    expect(runtime.join('\n')).not.toMatch(/tsx|--conditions=@crucible\/source|COPY \. /);
    const user = runtime.findIndex((l) => l.startsWith('USER '));
    expect(runtime[user]).toBe('USER node');
    expect(runtime.findIndex((l) => l.startsWith('CMD '))).toBeGreaterThan(user);
    expect(runtime.join('\n')).toMatch(/HEALTHCHECK [^\n]*\\\n\s*CMD \[[^\n]*\/health/);
    expect(runtime.at(-1)).toBe('CMD ["node", "dist/main.js"]');
    // The per-app copies it replaced are gone.
    expect((await readdir(DOCKER)).filter((f) => f.endsWith('.Dockerfile'))).toEqual([]);
  });

  it('compose builds every app from it by APP, with a /health check, migrations first, the task API after the ID service', async () => {
    // Compose applies YAML merge keys (`<<: *app-env`), as YAML 1.1 did.
    const compose = parse(await readFile(path.join(DOCKER, 'compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
    const apps = (await readdir(path.join(ROOT, 'apps'), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(apps.sort()).toEqual(['id-service', 'metrics-gateway', 'task-api']);
    const imageOf = (app: string) => `crucible/${app}`;
    for (const app of apps) {
      const s = compose.services[app] as Service;
      expect(s, app).toBeDefined();
      expect(s.image).toBe(imageOf(app));
      // Built here, or (task-api) by the migrate service under the same image name.
      const builder = Object.values(compose.services).find((x) => x.image === imageOf(app) && x.build);
      expect(builder?.build, app).toMatchObject({ context: '..', dockerfile: 'docker/Dockerfile', args: { APP: app } });
      expect(s.healthcheck?.test?.join(' '), app).toMatch(/\/health/);
      expect(s.depends_on?.['migrate']?.condition, app).toBe('service_completed_successfully');
      expect(s.environment?.['CRUCIBLE_ADMIN_TOKEN'], app).toBeTruthy();
    }
    expect(compose.services['task-api']?.environment?.['ID_SERVICE_URL']).toBe('http://id-service:8080');
    expect(compose.services['task-api']?.depends_on?.['id-service']?.condition).toBe('service_healthy');
    expect(compose.services['migrate']?.command).toEqual(['node', 'packages/shared/db/dist/cli.js', 'latest']);
  });
});
