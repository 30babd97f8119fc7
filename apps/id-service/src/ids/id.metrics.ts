import { Counter, type Registry } from 'prom-client';
import type { Reservation, ReserveRequest } from './id.service.js';

/**
 * The ID service's own Prometheus metrics, on the service's registry: reserving calls by
 * route and outcome, and IDs handed out.
 *
 * @example
 * const metrics = new IdMetrics(ctx.metrics.registry);
 * metrics.record(request, await reserver.reserve(scope, request));
 */
export class IdMetrics {
  readonly reservations: Counter<'op' | 'outcome'>;
  readonly allocated: Counter;

  constructor(registry: Registry) {
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
  }

  /** Counts one answered reserving call; a replay hands out nothing new. */
  record(request: ReserveRequest, reservation: Reservation): void {
    this.reservations.inc({ op: request.op, outcome: reservation.replayed ? 'replayed' : 'allocated' });
    if (!reservation.replayed) this.allocated.inc(reservation.last - reservation.first + 1);
  }
}
