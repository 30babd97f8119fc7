/**
 * Every Toxiproxy toxic, typed. `toxiproxy-node-client` 4.x declares some of these but does
 * not export `ResetPeer` or `LimitData`, so the attribute shapes live here once.
 */

/** Attributes of each toxic type, as the Toxiproxy HTTP API takes them. */
export interface ToxicAttributes {
  /** Delay every chunk by `latency` ± `jitter` ms. */
  latency: { latency: number; jitter: number };
  /** At most `rate` KB/s. */
  bandwidth: { rate: number };
  /** Delay the close of the socket by `delay` ms. */
  slow_close: { delay: number };
  /** Let no data through; close the connection after `timeout` ms (0 = never). */
  timeout: { timeout: number };
  /** Reset the connection (TCP RST) after `timeout` ms (0 = at once). */
  reset_peer: { timeout: number };
  /** Cut data into chunks of `average_size` ± `size_variation` bytes, `delay` µs apart. */
  slicer: { average_size: number; size_variation: number; delay: number };
  /** Close the connection once `bytes` have passed. */
  limit_data: { bytes: number };
}

/** A toxic type name. */
export type ToxicType = keyof ToxicAttributes;

/** `downstream` = server → client (the default), `upstream` = client → server. */
export type ToxicStream = 'upstream' | 'downstream';

/** Options every toxic takes. */
export interface ToxicOptions {
  /** Which direction it acts on (default `downstream`). */
  stream?: ToxicStream;
  /** Share of connections it affects, 0..1 (default 1). */
  toxicity?: number;
  /** Name on the server (default: generated, unique per proxy). */
  name?: string;
}

/** One toxic to add, discriminated by `type`. */
export type ToxicSpec = {
  [K in ToxicType]: { readonly type: K; readonly attributes: ToxicAttributes[K] } & Readonly<ToxicOptions>;
}[ToxicType];

/** Taking the proxy down (listener closed, connections cut) is a fault too, though not a toxic. */
export interface DownSpec {
  readonly type: 'down';
}

/** Anything a fault step can do to a proxy. */
export type FaultSpec = ToxicSpec | DownSpec;

const opts = (o: ToxicOptions | undefined) => ({ ...(o?.stream ? { stream: o.stream } : {}), ...(o?.toxicity !== undefined ? { toxicity: o.toxicity } : {}), ...(o?.name ? { name: o.name } : {}) });

/** Latency of `ms` ± `jitter` ms on every chunk. @example latency(200, 50) */
export function latency(ms: number, jitter = 0, options?: ToxicOptions): ToxicSpec {
  return { type: 'latency', attributes: { latency: ms, jitter }, ...opts(options) };
}

/** Throughput capped at `kbPerSecond` KB/s. */
export function bandwidth(kbPerSecond: number, options?: ToxicOptions): ToxicSpec {
  return { type: 'bandwidth', attributes: { rate: kbPerSecond }, ...opts(options) };
}

/** The socket closes `delayMs` later than it would. */
export function slowClose(delayMs: number, options?: ToxicOptions): ToxicSpec {
  return { type: 'slow_close', attributes: { delay: delayMs }, ...opts(options) };
}

/** A silent network: no data passes; the connection closes after `ms` (0 = stays open, silent). */
export function timeout(ms: number, options?: ToxicOptions): ToxicSpec {
  return { type: 'timeout', attributes: { timeout: ms }, ...opts(options) };
}

/** Connections are reset (RST) `afterMs` after data arrives (0 = at once). */
export function resetPeer(afterMs = 0, options?: ToxicOptions): ToxicSpec {
  return { type: 'reset_peer', attributes: { timeout: afterMs }, ...opts(options) };
}

/** Data cut into pieces of `averageSize` ± `sizeVariation` bytes, `delayUs` µs apart. */
export function slicer(averageSize: number, sizeVariation = 0, delayUs = 0, options?: ToxicOptions): ToxicSpec {
  return { type: 'slicer', attributes: { average_size: averageSize, size_variation: sizeVariation, delay: delayUs }, ...opts(options) };
}

/** The connection closes once `bytes` have passed in the toxic's direction. */
export function limitData(bytes: number, options?: ToxicOptions): ToxicSpec {
  return { type: 'limit_data', attributes: { bytes }, ...opts(options) };
}

/** The proxy is disabled: its listener closes and every connection through it is cut. */
export function down(): DownSpec {
  return { type: 'down' };
}

/** A short human description, e.g. `latency 200±50 ms (downstream)` or `down`. */
export function describeFault(fault: FaultSpec): string {
  const dir = fault.type === 'down' || !fault.stream || fault.stream === 'downstream' ? '' : ` (${fault.stream})`;
  const share = fault.type !== 'down' && fault.toxicity !== undefined && fault.toxicity < 1 ? ` on ${Math.round(fault.toxicity * 100)}% of connections` : '';
  const text = (() => {
    switch (fault.type) {
      case 'down':
        return 'down';
      case 'latency':
        return `latency ${fault.attributes.latency}${fault.attributes.jitter ? `±${fault.attributes.jitter}` : ''} ms`;
      case 'bandwidth':
        return `bandwidth ${fault.attributes.rate} KB/s`;
      case 'slow_close':
        return `slow_close ${fault.attributes.delay} ms`;
      case 'timeout':
        return fault.attributes.timeout ? `timeout (silent, closed after ${fault.attributes.timeout} ms)` : 'timeout (silent)';
      case 'reset_peer':
        return fault.attributes.timeout ? `reset_peer after ${fault.attributes.timeout} ms` : 'reset_peer';
      case 'slicer':
        return `slicer ${fault.attributes.average_size}±${fault.attributes.size_variation} B, ${fault.attributes.delay} µs apart`;
      case 'limit_data':
        return `limit_data ${fault.attributes.bytes} B`;
    }
  })();
  return `${text}${dir}${share}`;
}
