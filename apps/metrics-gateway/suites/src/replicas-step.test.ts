// The gateway stress's replicas step, small: two real gateway processes on one real Redis
// behind a real nginx, every client connecting through nginx. Clean, it passes the fan-out's
// delivery thresholds with both replicas serving and subscribers reading across them; with
// replica B's stream reader planted to skip entries (gateway.streams.skip-entry) it fails
// naming reported_lost (and never_arrived when a run's last entry was the one skipped); with
// B dropping events on the last hop (gateway.deliver.drop) it fails naming unannounced_gaps.
import type { ScenarioReport } from '@crucible/contracts';
import { describe, expect, it } from 'vitest';
import { replicasBehindNginx, replicasThresholds } from './replicas-step.js';

const failing = (row: ScenarioReport) => row.thresholds.filter((t) => !t.passed).map((t) => t.expression);
/** The row's figures, printed with a failed assertion. */
const figures = (row: ScenarioReport) => JSON.stringify(row.metrics);

describe('gateway stress: 2 replicas behind nginx', () => {
  it('passes clean: both replicas got connections, subscribers read across them, no gap, nothing out of order', async () => {
    const row = await replicasBehindNginx();
    expect(row.thresholds.map((t) => t.expression)).toEqual([...replicasThresholds]);
    expect(failing(row), figures(row)).toEqual([]);
    const m = row.metrics;
    // Round robin over 24 connections: each replica holds some, and every run has a subscriber on the replica its publisher is not on.
    expect(m['replica_a_connections']).toBeGreaterThan(0);
    expect(m['replica_b_connections']).toBeGreaterThan(0);
    expect((m['replica_a_connections'] ?? 0) + (m['replica_b_connections'] ?? 0)).toBe(24);
    expect(m['cross_replica_subscribers']).toBeGreaterThanOrEqual(4);
    expect(m['delivered']).toBe(16 * 400);
    expect(m['streams_read']).toBeGreaterThan(0);
  });

  it('fails naming reported_lost when replica B skips stream entries (gateway.streams.skip-entry)', async () => {
    // B reads the entries of every run published on A that it has a subscriber of (about 1,600);
    // at 2 % the chance it skips none is 0.98^1600 ≈ 1e-14.
    const row = await replicasBehindNginx(undefined, { envB: { CRUCIBLE_FAILPOINTS: 'gateway.streams.skip-entry=0.02' } });
    expect(row.metrics['cross_replica_subscribers']).toBeGreaterThan(0);
    expect(failing(row), figures(row)).toContain('reported_lost: count==0');
    // A skipped entry that was a run's last has no later one to reveal it: it shows as never
    // arrived instead (about 4 runs × 2 % of the time). Nothing else fails: no silent gap, no reordering.
    expect(failing(row).filter((e) => e !== 'reported_lost: count==0' && e !== 'never_arrived: count==0'), figures(row)).toEqual([]);
    expect(row.metrics['reported_lost']).toBeGreaterThan(0);
    expect(row.metrics['streams_gap_messages']).toBeGreaterThan(0);
  });

  it('fails naming unannounced_gaps when replica B drops events on their way to its subscribers (gateway.deliver.drop)', async () => {
    // B delivers to about half the 16 subscribers: ~3,200 deliveries at 0.5 %, none dropped with chance e^-16.
    const row = await replicasBehindNginx(undefined, { envB: { CRUCIBLE_FAILPOINTS: 'gateway.deliver.drop=0.005' } });
    expect(row.metrics['replica_b_subscribers']).toBeGreaterThan(0);
    expect(failing(row), figures(row)).toContain('unannounced_gaps: count==0');
    // A loss on the last hop, not a reordering nor a stream the reader skipped.
    expect(failing(row)).not.toContain('out_of_order: count==0');
    expect(row.metrics['streams_gap_messages']).toBe(0);
  });

  it('fails naming replica_b_connections and cross_replica_subscribers behind an nginx that weights A 100:1 (every connection on A)', async () => {
    // Smooth weighted round robin gives B its first connection after ~100 to A: the step's 24 all go to A.
    const row = await replicasBehindNginx(undefined, { weights: [100, 1] });
    expect(row.metrics['replica_b_connections'], figures(row)).toBe(0);
    expect(failing(row), figures(row)).toEqual(expect.arrayContaining(['replica_b_connections: count>0', 'cross_replica_subscribers: count>0']));
    // Delivery itself is whole: one replica served everything.
    expect(failing(row).filter((e) => !['replica_b_connections: count>0', 'cross_replica_subscribers: count>0'].includes(e)), figures(row)).toEqual([]);
  });
});
