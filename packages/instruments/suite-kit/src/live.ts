import { startLiveSink, type Sink } from '@crucible/load-engine';
import { runEndSummary } from '@crucible/reporting';

/** A live stream of the whole suite to the metrics gateway, as one run. */
export interface Live {
  /** The gateway sink; the suite's run session closes it once, with one `run_end` for every scenario. */
  readonly sink: Sink;
  readonly dashboardUrl: string;
}

/**
 * Opens the gateway stream of a suite: a gateway sink on the suite's run session, which keeps
 * it open across the suite's runs and closes it at the end (one `run_end` with every run's
 * totals and thresholds, as the report has them).
 */
export async function openLive(o: { gatewayUrl: string; token: string; runId: string }): Promise<Live> {
  const { sink, dashboardUrl } = await startLiveSink({ ...o, summarize: runEndSummary });
  return { sink, dashboardUrl };
}
