/**
 * No Kubernetes API server or validator runs here (kubeconform needs schemas from the
 * internet), so this is a strict structural check of deploy/k8s on the parsed YAML: the kinds,
 * the apps' probes on /health, the external dependencies through Secrets, and the load workers
 * as an Indexed Job whose segment variables are what `crucible worker` reads.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const K8S = path.join(ROOT, 'deploy/k8s');

interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { secretRef?: { name: string } }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  restartPolicy?: string;
  securityContext?: { runAsNonRoot?: boolean };
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string }; configMap?: { name: string } }[];
}
interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown> & { template?: { spec: PodSpec }; completionMode?: string; completions?: number; parallelism?: number; backoffLimit?: number; selector?: Record<string, unknown>; ports?: { port: number }[] };
  stringData?: Record<string, string>;
}

async function manifests(): Promise<Doc[]> {
  const files = (await readdir(K8S)).filter((f) => f.endsWith('.yaml'));
  const docs: Doc[] = [];
  for (const f of files) {
    for (const d of parseAllDocuments(await readFile(path.join(K8S, f), 'utf8'))) {
      expect(d.errors, f).toEqual([]);
      if (d.contents) docs.push(d.toJS() as Doc);
    }
  }
  return docs;
}

const byKind = (docs: Doc[], kind: string) => docs.filter((d) => d.kind === kind);
const envOf = (c: Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

describe('deploy/k8s (structure; no API server here)', () => {
  it('every app is a Deployment with a Service, probed on /health, non-root, its dependencies from Secrets', async () => {
    const docs = await manifests();
    for (const d of docs) expect(['v1', 'apps/v1', 'batch/v1'], `${d.kind} ${d.metadata.name}`).toContain(d.apiVersion);
    const apps = (await readdir(path.join(ROOT, 'apps'), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    const secrets = new Set(byKind(docs, 'Secret').map((s) => s.metadata.name));
    expect(byKind(docs, 'Deployment').map((d) => d.metadata.name).sort()).toEqual(apps);
    expect(byKind(docs, 'Service').map((d) => d.metadata.name).sort()).toEqual(apps);
    for (const d of byKind(docs, 'Deployment')) {
      const pod = d.spec.template?.spec as PodSpec;
      const c = pod.containers[0] as Container;
      expect(c.image).toBe(`crucible/${d.metadata.name}:latest`);
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(c.readinessProbe?.httpGet).toEqual({ path: '/health', port: 'http' });
      expect(c.livenessProbe?.httpGet).toEqual({ path: '/health', port: 'http' });
      expect(c.ports).toEqual([{ name: 'http', containerPort: 8080 }]);
      const refs = (c.envFrom ?? []).map((e) => e.secretRef?.name);
      expect(refs).toContain('crucible-database');
      expect(refs).toContain('crucible-admin');
      for (const r of refs) expect(secrets.has(r as string), r).toBe(true);
    }
    expect(envOf(byKind(docs, 'Deployment').find((d) => d.metadata.name === 'task-api')?.spec.template?.spec.containers[0] as Container)['ID_SERVICE_URL']).toBe('http://id-service:8080');
    // PostgreSQL and Redis are external: no Deployment of them, only their addresses in Secrets.
    expect(Object.keys(byKind(docs, 'Secret').find((s) => s.metadata.name === 'crucible-database')?.stringData ?? {})).toEqual(['DATABASE_URL']);
    expect(Object.keys(byKind(docs, 'Secret').find((s) => s.metadata.name === 'crucible-redis')?.stringData ?? {})).toEqual(['REDIS_URL']);
  });

  it('the load workers are an Indexed Job whose JOB_COMPLETIONS matches its completions, sharing one volume with the collect Job', async () => {
    const jobs = byKind(await manifests(), 'Job');
    const load = jobs.find((j) => j.metadata.name === 'crucible-load') as Doc;
    const collect = jobs.find((j) => j.metadata.name === 'crucible-collect') as Doc;
    expect(load.spec.completionMode).toBe('Indexed');
    expect(load.spec.parallelism).toBe(load.spec.completions);
    expect(load.spec.backoffLimit).toBe(0);
    const worker = load.spec.template?.spec.containers[0] as Container;
    expect(worker.args?.slice(0, 2)).toEqual(['worker', '/scenarios/run.ts']);
    // JOB_COMPLETION_INDEX comes from Kubernetes in Indexed mode; JOB_COMPLETIONS must be given, equal to completions.
    expect(envOf(worker)['JOB_COMPLETIONS']).toBe(String(load.spec.completions));
    expect(envOf(worker)['JOB_COMPLETION_INDEX']).toBeUndefined();
    const results = (args: string[] | undefined, flag: string) => args?.[(args?.indexOf(flag) ?? -2) + 1];
    const collector = collect.spec.template?.spec.containers[0] as Container;
    expect(collector.args?.[0]).toBe('collect');
    expect(collector.args?.[1]).toBe(results(worker.args, '--results'));
    expect(results(collector.args, '--completions')).toBe(String(load.spec.completions));
    const claim = (j: Doc) => j.spec.template?.spec.volumes?.find((v) => v.name === 'results')?.persistentVolumeClaim?.claimName;
    expect(claim(load)).toBe('crucible-results');
    expect(claim(collect)).toBe('crucible-results');
    for (const j of [load, collect]) expect(j.spec.template?.spec.restartPolicy).toBe('Never');
    expect(worker.image).toBe('crucible/cli:latest');
  });

  it('the gateway-sink variant: an Indexed Job and a collect Job on one CRUCIBLE_RESULTS_URL job, the token from the admin Secret, no volume', async () => {
    const docs = await manifests();
    const jobs = byKind(docs, 'Job');
    const load = jobs.find((j) => j.metadata.name === 'crucible-load-gateway') as Doc;
    const collect = jobs.find((j) => j.metadata.name === 'crucible-collect-gateway') as Doc;
    expect(load.spec.completionMode).toBe('Indexed');
    expect(load.spec.parallelism).toBe(load.spec.completions);
    expect(load.spec.backoffLimit).toBe(0);
    const worker = load.spec.template?.spec.containers[0] as Container;
    const collector = collect.spec.template?.spec.containers[0] as Container;
    expect(worker.args?.slice(0, 2)).toEqual(['worker', '/scenarios/run.ts']);
    expect(worker.args).not.toContain('--results');
    expect(envOf(worker)['JOB_COMPLETIONS']).toBe(String(load.spec.completions));
    expect(collector.args?.slice(0, 3)).toEqual(['collect', '--completions', String(load.spec.completions)]);
    // Both on one job of the gateway's Service, as `<gateway>/jobs/<name>`.
    const gatewayService = byKind(docs, 'Service').find((d) => d.metadata.name === 'metrics-gateway');
    expect(envOf(worker)['CRUCIBLE_RESULTS_URL']).toBe(`http://metrics-gateway:${gatewayService?.spec.ports?.[0]?.port}/jobs/run-1`);
    expect(envOf(collector)['CRUCIBLE_RESULTS_URL']).toBe(envOf(worker)['CRUCIBLE_RESULTS_URL']);
    // The token is the gateway's own admin token (its publish token by default), from the Secret the gateway reads.
    const admin = byKind(docs, 'Secret').find((s) => s.metadata.name === 'crucible-admin');
    for (const c of [worker, collector]) {
      const ref = c.env?.find((e) => e.name === 'CRUCIBLE_RESULTS_TOKEN')?.valueFrom?.secretKeyRef;
      expect(ref).toEqual({ name: 'crucible-admin', key: 'CRUCIBLE_ADMIN_TOKEN' });
      expect(Object.keys(admin?.stringData ?? {})).toContain(ref?.key);
    }
    for (const j of [load, collect]) {
      expect(j.spec.template?.spec.restartPolicy).toBe('Never');
      expect(j.spec.template?.spec.volumes?.some((v) => v.persistentVolumeClaim)).toBeFalsy();
    }
    // The gateway keeps a job in memory: one replica, so every worker and the collect reach the same process.
    expect(byKind(docs, 'Deployment').find((d) => d.metadata.name === 'metrics-gateway')?.spec['replicas']).toBe(1);
  });
});
