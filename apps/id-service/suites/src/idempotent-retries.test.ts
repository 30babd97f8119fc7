// Retries under a silent database link, against the real id-service, a real toxiproxy and
// a real PostgreSQL: with one Idempotency-Key per logical reservation the history
// reconciles; the sabotaged client (retries without a key) is caught by the checker.
import { timeout, withFaults } from '@crucible/chaos';
import { reconcileIds, type IdOperation } from '@crucible/checkers';
import { createDb, createPool, idEvidenceFromDb } from '@crucible/db';
import { HttpClient } from '@crucible/load-engine';
import { startSut, type Sut } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reserveWithRetries } from './resilience.support.js';
import { type HttpCall } from '@crucible/suite-kit';

let sut: Sut;

beforeAll(async () => {
  sut = await startSut({
    server: testServer(),
    apps: ['id-service'],
    chaos: true,
    // A query whose answer is lost gives up after 1.2 s (a 503, indeterminate to the client).
    env: { LOG_LEVEL: 'silent', DB_STATEMENT_TIMEOUT_MS: '1000', DB_QUERY_TIMEOUT_MS: '1200', DB_ACQUIRE_TIMEOUT_MS: '500' },
  });
});
afterAll(async () => {
  await sut?.stop();
});

/**
 * 4 workers reserve back to back for 5 s; from 1.5 s to 3 s the database's answers are
 * dropped (Toxiproxy `timeout` downstream): statements reach PostgreSQL and commit, the
 * service never hears back. Returns the logical history, the attempts and the reconciliation.
 */
async function reserveThroughSilence(projectId: string, idempotent: boolean) {
  const { api_key: apiKey } = await sut.createProject(projectId);
  const http = new HttpClient(sut.url('id-service'), { connections: 8 });
  const history: IdOperation[] = [];
  const attempts: HttpCall[] = [];
  const stopAt = performance.now() + 5000;
  const proxy = sut.chaos!.proxy('id-service');
  try {
    await withFaults([{ at: 1500, for: 1500, proxy, fault: timeout(0, { stream: 'downstream' }) }], async () => {
      await Promise.all(
        Array.from({ length: 4 }, async (_, worker) => {
          while (performance.now() < stopAt) {
            history.push(await reserveWithRetries(http, { apiKey, projectId, type: 'US', count: 2, idempotent, attempts, process: worker, deadlineMs: 8000 }));
          }
        }),
      );
    });
  } finally {
    await http.close();
  }
  const pool = createPool({ connectionString: sut.databaseUrl, max: 1 });
  try {
    const { registry, reservations } = await idEvidenceFromDb(createDb(pool), [projectId]);
    return { history, attempts, reconciliation: reconcileIds(history, registry, reservations) };
  } finally {
    await pool.end();
  }
}

describe('reservations retried through a silent database link', () => {
  it('with an Idempotency-Key per reservation: zero duplicates, zero lost acknowledged ranges, no unexplained gap', async () => {
    const { history, attempts, reconciliation } = await reserveThroughSilence('retry-keyed', true);
    // The fault really acted: some attempts got a 503 or no answer.
    expect(attempts.filter((a) => !a.ok).length).toBeGreaterThan(0);
    expect(history.filter((op) => op.outcome === 'ok').length).toBeGreaterThan(10);
    expect(reconciliation.verdict.counts).toMatchObject({ duplicate_ids: 0, lost_acknowledged_ids: 0, unexplained_gap_ids: 0 });
    expect(reconciliation.verdict.status).toBe('pass');
  });

  it('the sabotaged client (retries without a key) is caught: its lost-answer allocations are unexplained gaps', async () => {
    const { attempts, reconciliation } = await reserveThroughSilence('retry-unkeyed', false);
    expect(attempts.filter((a) => !a.ok).length).toBeGreaterThan(0);
    expect(reconciliation.verdict.status).toBe('fail');
    expect(reconciliation.verdict.counts['unexplained_gap_ids']).toBeGreaterThan(0);
    expect(reconciliation.unexplainedGaps[0]).toMatchObject({ project_id: 'retry-unkeyed', type: 'US' });
  });
});
