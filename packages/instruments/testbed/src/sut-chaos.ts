import { startToxiproxyServer, type Chaos, type ChaosProxy, type ToxiproxyServer } from '@crucible/chaos';
import { InstrumentError } from '@crucible/instrument-kit';
import { onTeardown } from './cleanup.js';

/** The chaos side of a SUT started with `chaos: true`: one proxy between each app and PostgreSQL. */
export interface SutChaos {
  /** The toxiproxy-server of this SUT. */
  readonly server: ToxiproxyServer;
  readonly client: Chaos;
  /** The proxy between `app` (every replica of it) and PostgreSQL, named `<app>-db`. */
  proxy(app: string): ChaosProxy;
  /** Every proxy, by app. */
  readonly proxies: ReadonlyMap<string, ChaosProxy>;
  /** Removes every toxic from every proxy and brings them all up. */
  reset(): Promise<void>;
}

/** @internal what `startSut` needs to wire chaos in. */
export interface SutChaosControl extends SutChaos {
  /** Routes `app`'s database URL through its proxy (created on first use). */
  databaseUrlFor(app: string, directUrl: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts toxiproxy-server for a SUT; proxies are created as apps ask for their database URL. */
export async function startSutChaos(): Promise<SutChaosControl> {
  const server = await startToxiproxyServer({ onTeardown });
  const proxies = new Map<string, ChaosProxy>();
  const pending = new Map<string, Promise<ChaosProxy>>();
  return {
    server,
    client: server.chaos,
    proxies,
    proxy(app) {
      const p = proxies.get(app);
      if (!p) throw new InstrumentError('unknown_app', `no chaos proxy for "${app}": proxies exist for ${[...proxies.keys()].join(', ') || 'no app'}`);
      return p;
    },
    async databaseUrlFor(app, directUrl) {
      const direct = new URL(directUrl);
      let creating = pending.get(app);
      if (!creating) {
        creating = server.chaos.createProxy({ name: `${app}-db`, upstream: `${direct.hostname}:${direct.port || 5432}` });
        pending.set(app, creating);
      }
      const proxy = await creating;
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
