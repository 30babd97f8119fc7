import { Counter, type Registry } from 'prom-client';
import type { Reservation, ReserveRequest } from './id.service.js';

/**
 * The ID service's own Prometheus metrics, on the service's registry: reserving calls by
 * route and outcome, IDs handed out, and, given the reserver's `batches`, its coalescer's
 * batches and the calls they answered (their ratio over a burst is its mean batch size).
 *
 * @example
 * const metrics = new IdMetrics(ctx.metrics.registry, () => reserver.stats);
 * metrics.record(request, await reserver.reserve(scope, request));
 */
export class IdMetrics {
  readonly reservations: Counter<'op' | 'outcome'>;
  readonly allocated: Counter;

  constructor(registry: Registry, batches?: () => { batches: number; items: number }) {
    this.reservations = new Counter({
      name: 'id_reservations_total',
      help: 'Reserving calls by route and outcome (allocated or replayed from an Idempotency-Key)',
      labelNames: ['op', 'outcome'],
      registers: [registry],
    });
    this.allocated = new Counter({
      name: 'ids_allocated_total',
      help: 'IDs handed out (replays not counted)',
      registers: [registry],
    });
    if (!batches) return;
    // Running totals the coalescer keeps, read at scrape.
    const total = (name: string, help: string, read: (s: { batches: number; items: number }) => number) =>
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read(batches()));
        },
      });
    total('id_allocation_batches_total', 'Allocation batches run (one statement, or one transaction with keys, per batch)', (s) => s.batches);
    total('id_allocation_batched_calls_total', 'Reserving calls answered through an allocation batch (planted per-call paths not counted)', (s) => s.items);
  }

  /** Counts one answered reserving call; a replay hands out nothing new. */
  record(request: ReserveRequest, reservation: Reservation): void {
    this.reservations.inc({ op: request.op, outcome: reservation.replayed ? 'replayed' : 'allocated' });
    if (!reservation.replayed) this.allocated.inc(reservation.last - reservation.first + 1);
  }
}
