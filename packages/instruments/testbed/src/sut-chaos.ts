import { startToxiproxyServer, type Chaos, type ChaosProxy, type ToxiproxyServer } from '@crucible/chaos';
import { InstrumentError } from '@crucible/instrument-kit';
import { onTeardown } from './cleanup.js';

/** The chaos side of a SUT started with `chaos: true`: one proxy between each app and PostgreSQL, and one on each app-to-app link. */
export interface SutChaos {
  /** The toxiproxy-server of this SUT. */
  readonly server: ToxiproxyServer;
  readonly client: Chaos;
  /** The proxy between `app` (every replica of it) and PostgreSQL, named `<app>-db`. */
  proxy(app: string): ChaosProxy;
  /** Every proxy, by app. */
  readonly proxies: ReadonlyMap<string, ChaosProxy>;
  /**
   * The proxy between `from` (every replica of it) and the app `to` it calls, named
   * `<to>-from-<from>` (e.g. `id-service-from-task-api`): cut it to take the dependency away
   * from that caller alone.
   */
  link(from: string, to: string): ChaosProxy;
  /** Removes every toxic from every proxy and brings them all up. */
  reset(): Promise<void>;
}

/** @internal what `startSut` needs to wire chaos in. */
export interface SutChaosControl extends SutChaos {
  /** Routes `app`'s database URL through its proxy (created on first use). */
  databaseUrlFor(app: string, directUrl: string): Promise<string>;
  /** Routes `from`'s URL of the app `to` through their link proxy (created on first use). */
  dependencyUrlFor(from: string, to: string, directUrl: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts toxiproxy-server for a SUT; proxies are created as apps ask for their database URL. */
export async function startSutChaos(): Promise<SutChaosControl> {
  const server = await startToxiproxyServer({ onTeardown });
  const proxies = new Map<string, ChaosProxy>();
  const pending = new Map<string, Promise<ChaosProxy>>();
  const links = new Map<string, ChaosProxy>();
  // One proxy per name, however many replicas ask for it at once.
  const proxyFor = (name: string, upstream: string) => {
    let creating = pending.get(name);
    if (!creating) {
      creating = server.chaos.createProxy({ name, upstream });
      pending.set(name, creating);
    }
    return creating;
  };
  return {
    server,
    client: server.chaos,
    proxies,
    proxy(app) {
      const p = proxies.get(app);
      if (!p) throw new InstrumentError('unknown_app', `no chaos proxy for "${app}": proxies exist for ${[...proxies.keys()].join(', ') || 'no app'}`);
      return p;
    },
    link(from, to) {
      const p = links.get(`${to}-from-${from}`);
      if (!p) throw new InstrumentError('unknown_app', `no chaos proxy from "${from}" to "${to}": links exist for ${[...links.keys()].join(', ') || 'nothing'}`);
      return p;
    },
    async dependencyUrlFor(from, to, directUrl) {
      const direct = new URL(directUrl);
      const name = `${to}-from-${from}`;
      const proxy = await proxyFor(name, `${direct.hostname}:${direct.port}`);
      links.set(name, proxy);
      const routed = new URL(directUrl);
      routed.hostname = proxy.host;
      routed.port = String(proxy.port);
      return routed.toString().replace(/\/$/, '');
    },
    async databaseUrlFor(app, directUrl) {
      const direct = new URL(directUrl);
      const proxy = await proxyFor(`${app}-db`, `${direct.hostname}:${direct.port || 5432}`);
      proxies.set(app, proxy);
      const routed = new URL(directUrl);
      routed.hostname = proxy.host;
      routed.port = String(proxy.port);
      return routed.toString();
    },
    reset: () => server.chaos.reset(),
    stop: () => server.stop(),
  };
}
