import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { IdMetrics } from './id.metrics.js';

describe('IdMetrics', () => {
  it('counts calls by route and outcome, and only freshly allocated IDs', async () => {
    const registry = new Registry();
    const metrics = new IdMetrics(registry);
    metrics.record({ op: 'reserve', type: 'US', count: 6 }, { type: 'US', first: 1, last: 6, replayed: false });
    metrics.record({ op: 'reserve', type: 'US', count: 6 }, { type: 'US', first: 1, last: 6, replayed: true });
    metrics.record({ op: 'next', type: 'US', count: 1 }, { type: 'US', first: 7, last: 7, replayed: false });
    const text = await registry.metrics();
    expect(text).toContain('id_reservations_total{op="reserve",outcome="allocated"} 1');
    expect(text).toContain('id_reservations_total{op="reserve",outcome="replayed"} 1');
    expect(text).toContain('id_reservations_total{op="next",outcome="allocated"} 1');
    expect(text).toContain('ids_allocated_total 7');
  });

  it("reads the coalescer's batches and the calls they answered at scrape", async () => {
    const registry = new Registry();
    const stats = { batches: 2, items: 7 };
    new IdMetrics(registry, () => stats);
    expect(await registry.metrics()).toContain('id_allocation_batches_total 2');
    stats.batches = 3;
    stats.items = 500;
    const text = await registry.metrics();
    expect(text).toContain('id_allocation_batches_total 3');
    expect(text).toContain('id_allocation_batched_calls_total 500');
  });
});
