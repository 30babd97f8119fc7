import { EngineEvents, startLiveSink, type ScenarioResult, type Sink } from '@crucible/load-engine';

/** A live stream of the whole suite to the metrics gateway, as one run. */
export interface Live {
  readonly sink: Sink;
  readonly dashboardUrl: string;
  /** Notes scenarios that finished, for the run's final summary. */
  record(results: readonly ScenarioResult[]): void;
  /** Sends the run's end and closes the gateway connection. */
  end(startedAt: Date): Promise<void>;
}

/**
 * Opens the gateway stream of a suite. The engine closes a run's sinks when `run()` returns
 * and a suite calls `run()` once per scenario, so the gateway sink sits behind a per-suite
 * forwarder and is closed (with one `run_end`) by `end`.
 */
export async function openLive(o: { gatewayUrl: string; token: string; runId: string }): Promise<Live> {
  const live = await startLiveSink(o);
  const events = new EngineEvents();
  live.sink.attach(events);
  const results: ScenarioResult[] = [];
  return {
    dashboardUrl: live.dashboardUrl,
    sink: {
      name: 'gateway (whole suite)',
      attach(run) {
        run.on('tick', (t) => events.emit('tick', t));
      },
    },
    record: (r) => results.push(...r),
    async end(startedAt) {
      events.emit('done', { runId: o.runId, result: { runId: o.runId, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), segment: '0:1', scenarios: results } });
      await live.sink.close?.();
    },
  };
}
