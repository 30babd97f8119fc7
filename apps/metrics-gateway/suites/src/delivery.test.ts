// Planted-defect tests of the gateway stress's ordering and delivery verdicts: the suite's own
// workload (GatewayLoad) and its own fan-out row (fanOutRow), small, against a real gateway
// process, clean and with each delivery failpoint armed.
import type { ScenarioReport } from '@crucible/contracts';
import { discoverApps, startApp } from '@crucible/testbed';
import { describe, expect, it } from 'vitest';
import { GatewayLoad, type GatewayProfile } from './gateway-load.js';
import { deliveryThresholds, fanOutRow } from './reports.js';

const token = 'delivery-test-admin-token-0123456789';

// 10 channels × 2 subscribers and one publisher per channel, 1,000 events/s for ~3.5 s
// (1 s ramp, 2 s measured, 0.5 s tail): about 3,500 events, 7,000 deliveries.
const profile: GatewayProfile = { connections: 30, channels: 10, subscribersPerChannel: 2, rate: 1000, durationS: 2, tailS: 0.5, connectConcurrency: 30, stormDeadlineMs: 10_000 };

// A failpoint at 0.5 % per delivery over ~7,000 deliveries fires about 35 times; the chance it
// never fires is 0.995^7000 ≈ e^-35 ≈ 6e-16 (and under 1e-7 even if only 3,500 went out).
const probability = 0.005;

/** The fan-out row of one small run of the suite's workload against a fresh gateway process. */
async function fanOut(failpoints?: string): Promise<ScenarioReport> {
  const manifest = discoverApps().find((a) => a.name === 'metrics-gateway');
  if (!manifest) throw new Error('apps/metrics-gateway not found');
  const gateway = await startApp(manifest, { env: { CRUCIBLE_ADMIN_TOKEN: token, ...(failpoints ? { CRUCIBLE_FAILPOINTS: failpoints } : {}) } });
  const load = new GatewayLoad(profile, gateway, token);
  try {
    const connected = await load.connectAll();
    expect(connected.connected).toBe(profile.connections);
    load.startSchedule();
    const steady = await load.steady();
    await load.tail();
    return fanOutRow(load, steady, await load.ordering());
  } finally {
    await load.close();
    await gateway.stop();
  }
}

const failing = (row: ScenarioReport) => row.thresholds.filter((t) => !t.passed).map((t) => t.expression);
const delivery = (row: ScenarioReport) => row.thresholds.filter((t) => (deliveryThresholds as readonly string[]).includes(t.expression));

describe('gateway stress: ordering and delivery verdicts', () => {
  it('pass on the clean gateway, with no errors, refusals or drops', async () => {
    const row = await fanOut();
    expect(delivery(row)).toHaveLength(deliveryThresholds.length);
    expect(delivery(row).filter((t) => !t.passed)).toEqual([]);
    expect(row.requests).toBeGreaterThan(1500);
    expect(failing(row).filter((e) => /errors|refused|dropped/.test(e))).toEqual([]);
  });

  it('fail naming unannounced gaps when the gateway drops an event on its way to a subscriber (gateway.deliver.drop)', async () => {
    const row = await fanOut(`gateway.deliver.drop=${probability}`);
    expect(failing(row)).toContain('unannounced_gaps: count==0');
    // A loss, not a reordering.
    expect(failing(row)).not.toContain('out_of_order: count==0');
    expect(row.metrics['unannounced_gaps']).toBeGreaterThan(0);
  });

  it('fail naming out-of-order delivery when the gateway swaps an event with the next (gateway.deliver.reorder)', async () => {
    const row = await fanOut(`gateway.deliver.reorder=${probability}`);
    expect(failing(row)).toContain('out_of_order: count==0');
    // Late, not lost: every swapped event still arrived.
    expect(failing(row)).not.toContain('unannounced_gaps: count==0');
    expect(failing(row)).not.toContain('never_arrived: count==0');
    expect(row.metrics['out_of_order']).toBeGreaterThan(0);
  });
});
