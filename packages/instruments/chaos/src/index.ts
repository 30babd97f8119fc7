/**
 * @crucible/chaos — network faults through a real toxiproxy-server: start the server, put
 * proxies in front of PostgreSQL or between apps, apply every toxic type and `down`, and run
 * fault timelines next to a load scenario with guaranteed removal.
 *
 * @example
 * await using toxiproxy = await startToxiproxyServer();
 * const db = await toxiproxy.chaos.createProxy({ name: 'postgres', upstream: '127.0.0.1:5432' });
 * const { timeline } = await withFaults(
 *   [{ at: 5_000, for: 10_000, proxy: db, fault: latency(200, 50) }, { at: 20_000, for: 5_000, proxy: db, fault: down() }],
 *   (signal) => runLoad(signal),
 * );
 */
export { Chaos, ChaosProxy, ActiveToxic, ChaosError, type CreateProxyOptions, type Disruption, type ProxyState, type ToxicState } from './client.js';
export {
  latency,
  bandwidth,
  slowClose,
  timeout,
  resetPeer,
  slicer,
  limitData,
  down,
  describeFault,
  type ToxicAttributes,
  type ToxicType,
  type ToxicStream,
  type ToxicOptions,
  type ToxicSpec,
  type DownSpec,
  type FaultSpec,
} from './toxics.js';
export {
  startToxiproxyServer,
  resolveToxiproxyServer,
  defaultToxiproxyServerPath,
  ToxiproxyMissingError,
  type StartToxiproxyOptions,
  type ToxiproxyServer,
} from './server.js';
export { runTimeline, withFaults, phasesOf, spanOf, describeStep, TimelineError, type FaultStep, type StepRecord, type TimelineRun, type Phase } from './timeline.js';
export { killOnExit, type TeardownHook } from './cleanup.js';
