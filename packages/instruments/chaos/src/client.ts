import { InstrumentError } from '@crucible/instrument-kit';
import { Toxiproxy, ToxiproxyError, type Proxy as ClientProxy } from 'toxiproxy-node-client';
import { describeFault, type FaultSpec, type ToxicSpec, type ToxicStream, type ToxicType } from './toxics.js';

/** A Toxiproxy API call failed; the message names the call and what the server said. */
export class ChaosError extends InstrumentError<'toxiproxy_api'> {
  override name = 'ChaosError';
  constructor(
    message: string,
    /** HTTP status from toxiproxy-server, when it answered. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super('toxiproxy_api', message, options);
  }
}

/** A toxic as the server reports it. */
export interface ToxicState {
  readonly name: string;
  readonly type: ToxicType;
  readonly stream: ToxicStream;
  readonly toxicity: number;
  readonly attributes: Record<string, number>;
}

/** A proxy as the server reports it. */
export interface ProxyState {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
  readonly toxics: readonly ToxicState[];
}

/** A fault in effect; `remove()` (or `await using`) undoes it. Removing twice is harmless. */
export interface Disruption extends AsyncDisposable {
  /** e.g. `latency 200±50 ms on postgres-id-service`. */
  readonly description: string;
  remove(): Promise<void>;
}

/**
 * The HTTP API for what `toxiproxy-node-client` lacks or does poorly: PATCH updates (its
 * updates use POST, deprecated since Toxiproxy 2.6) and error messages that keep the
 * server's answer.
 */
async function call<T>(base: string, method: 'GET' | 'PATCH' | 'DELETE' | 'POST', path: string, body?: unknown): Promise<T | undefined> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new ChaosError(`${method} ${path}: toxiproxy-server at ${base} did not answer (${(err as Error).message})`, undefined, { cause: err });
  }
  const text = await res.text();
  if (!res.ok) throw new ChaosError(`${method} ${path}: ${res.status} ${text.trim()}`, res.status);
  return text ? (JSON.parse(text) as T) : undefined;
}

const wrap = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ChaosError) throw err;
    const status = err instanceof ToxiproxyError ? Number(/status code (\d+)/.exec(err.message)?.[1]) || undefined : undefined;
    throw new ChaosError(`${what}: ${(err as Error).message}`, status, { cause: err });
  }
};

/** One toxic in effect on a proxy. */
export class ActiveToxic implements Disruption {
  readonly #proxy: ChaosProxy;
  readonly #spec: ToxicSpec;
  #removed: Promise<void> | undefined;

  /** @internal created by {@link ChaosProxy.addToxic} */
  constructor(
    proxy: ChaosProxy,
    spec: ToxicSpec,
    /** Its name on the server. */
    readonly name: string,
  ) {
    this.#proxy = proxy;
    this.#spec = spec;
  }

  get type(): ToxicType {
    return this.#spec.type;
  }

  get description(): string {
    return `${describeFault(this.#spec)} on ${this.#proxy.name}`;
  }

  /** Changes the attributes in place (HTTP PATCH), e.g. raise the latency mid-run. */
  async update(attributes: Partial<ToxicSpec['attributes']>, toxicity?: number): Promise<void> {
    await this.#proxy.chaos.api('PATCH', `/proxies/${this.#proxy.name}/toxics/${this.name}`, {
      attributes,
      ...(toxicity === undefined ? {} : { toxicity }),
    });
  }

  /** Removes the toxic. A toxic already gone (proxy reset or removed) counts as removed. */
  remove(): Promise<void> {
    return (this.#removed ??= this.#proxy.chaos.api('DELETE', `/proxies/${this.#proxy.name}/toxics/${this.name}`).then(
      () => {},
      (err: unknown) => {
        if (err instanceof ChaosError && err.status === 404) return;
        this.#removed = undefined;
        throw err;
      },
    ));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.remove();
  }
}

/**
 * A Toxiproxy proxy: a TCP listener on `host:port` that forwards to `upstream`, and the
 * faults that can be put on it.
 *
 * @example
 * await using slow = await proxy.addToxic(latency(100, 20));
 * await using _down = await proxy.down();
 */
export class ChaosProxy {
  readonly #client: ClientProxy;
  #counter = 0;

  /** @internal created by {@link Chaos.createProxy} */
  constructor(
    readonly chaos: Chaos,
    client: ClientProxy,
  ) {
    this.#client = client;
  }

  get name(): string {
    return this.#client.name;
  }
  /** `host:port` the proxy listens on (the real port even when created with port 0). */
  get listen(): string {
    return this.#client.listen;
  }
  get upstream(): string {
    return this.#client.upstream;
  }
  get host(): string {
    return this.listen.slice(0, this.listen.lastIndexOf(':'));
  }
  get port(): number {
    return Number(this.listen.slice(this.listen.lastIndexOf(':') + 1));
  }

  /** Adds a toxic; remove it with the returned handle (or `await using`). */
  async addToxic(spec: ToxicSpec): Promise<ActiveToxic> {
    const name = spec.name ?? `${spec.type}_${spec.stream ?? 'downstream'}_${++this.#counter}`;
    await wrap(`adding ${describeFault(spec)} to ${this.name}`, () =>
      this.#client.addToxic({
        name,
        type: spec.type,
        stream: spec.stream ?? 'downstream',
        toxicity: spec.toxicity ?? 1,
        attributes: spec.attributes,
      }),
    );
    return new ActiveToxic(this, spec, name);
  }

  /**
   * Takes the proxy down: its listener closes (new connections are refused) and every open
   * connection through it is cut. The handle brings it back up.
   */
  async down(): Promise<Disruption> {
    await this.#setEnabled(false);
    let up: Promise<void> | undefined;
    const remove = () => (up ??= this.up().catch((err: unknown) => {
      up = undefined;
      throw err;
    }));
    return { description: `down on ${this.name}`, remove, [Symbol.asyncDispose]: remove };
  }

  /** Brings the proxy back up (listening on the same address). */
  async up(): Promise<void> {
    await this.#setEnabled(true);
  }

  /** Puts any fault in effect: a toxic, or `down`. */
  async apply(fault: FaultSpec): Promise<Disruption> {
    return fault.type === 'down' ? this.down() : this.addToxic(fault);
  }

  /** Runs `fn` with `fault` in effect and always removes the fault afterwards, even when `fn` throws. */
  async withFault<T>(fault: FaultSpec, fn: () => Promise<T>): Promise<T> {
    const d = await this.apply(fault);
    try {
      return await fn();
    } finally {
      await d.remove();
    }
  }

  /** What the server says about this proxy now. */
  async state(): Promise<ProxyState> {
    const s = await this.chaos.api<ProxyState>('GET', `/proxies/${this.name}`);
    if (!s) throw new ChaosError(`GET /proxies/${this.name}: empty answer`);
    return s;
  }

  /** The toxics in effect now. */
  async toxics(): Promise<readonly ToxicState[]> {
    return (await this.state()).toxics;
  }

  /** Removes every toxic and brings the proxy up. */
  async reset(): Promise<void> {
    const { toxics } = await this.state();
    await Promise.all(
      toxics.map((t) =>
        this.chaos.api('DELETE', `/proxies/${this.name}/toxics/${t.name}`).catch((err: unknown) => {
          if (!(err instanceof ChaosError && err.status === 404)) throw err;
        }),
      ),
    );
    await this.#setEnabled(true);
  }

  /** Deletes the proxy (its listener closes). */
  async remove(): Promise<void> {
    await wrap(`removing proxy ${this.name}`, () => this.#client.remove()).catch((err: unknown) => {
      if (!(err instanceof ChaosError && err.status === 404)) throw err;
    });
  }

  async #setEnabled(enabled: boolean): Promise<void> {
    // PATCH, not the client's POST (deprecated since Toxiproxy 2.6).
    await this.chaos.api('PATCH', `/proxies/${this.name}`, { enabled });
  }
}

/** Options of {@link Chaos.createProxy}. */
export interface CreateProxyOptions {
  name: string;
  /** `host:port` to forward to. */
  upstream: string;
  /** `host:port` to listen on (default `127.0.0.1:0`: a free port the server picks). */
  listen?: string;
}

/**
 * A typed client for one toxiproxy-server, built on `toxiproxy-node-client`.
 *
 * @example
 * const chaos = new Chaos('http://127.0.0.1:8474');
 * const db = await chaos.createProxy({ name: 'postgres', upstream: '127.0.0.1:5432' });
 * await db.withFault(latency(100, 20), () => runLoad());
 */
export class Chaos {
  readonly #client: Toxiproxy;

  constructor(
    /** Base URL of the toxiproxy-server API, e.g. `http://127.0.0.1:8474`. */
    readonly url: string,
  ) {
    this.#client = new Toxiproxy(url);
  }

  /** @internal a raw API call (used for what the client library lacks). */
  api<T = unknown>(method: 'GET' | 'PATCH' | 'DELETE' | 'POST', path: string, body?: unknown): Promise<T | undefined> {
    return call<T>(this.url, method, path, body);
  }

  /** The server's version, e.g. `2.12.0`. */
  async version(): Promise<string> {
    const text = await wrap('reading the version', () => this.#client.getVersion());
    try {
      return (JSON.parse(text) as { version: string }).version;
    } catch {
      return text.trim();
    }
  }

  /** Creates a proxy; a proxy of the same name is replaced. */
  async createProxy(options: CreateProxyOptions): Promise<ChaosProxy> {
    await this.api('DELETE', `/proxies/${options.name}`).catch((err: unknown) => {
      if (!(err instanceof ChaosError && err.status === 404)) throw err;
    });
    const created = await wrap(`creating proxy ${options.name} → ${options.upstream}`, () =>
      this.#client.createProxy({ name: options.name, listen: options.listen ?? '127.0.0.1:0', upstream: options.upstream, enabled: true }),
    );
    return new ChaosProxy(this, created);
  }

  /** An existing proxy by name. */
  async proxy(name: string): Promise<ChaosProxy> {
    return new ChaosProxy(this, await wrap(`reading proxy ${name}`, () => this.#client.get(name)));
  }

  /** Every proxy on the server. */
  async proxies(): Promise<ChaosProxy[]> {
    const all = await wrap('listing proxies', () => this.#client.getAll());
    return Object.values(all).map((p) => new ChaosProxy(this, p));
  }

  /** Removes every toxic from every proxy and enables them all (Toxiproxy's `/reset`). */
  async reset(): Promise<void> {
    await wrap('resetting toxiproxy', () => this.#client.reset());
  }
}
