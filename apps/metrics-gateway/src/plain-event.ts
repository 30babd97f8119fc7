import type { GatewayPublish } from '@crucible/contracts';

/** A publish of one metric event, as `gatewayClientMessageSchema` parses it. */
export type EventPublish = Extract<GatewayPublish, { type: 'event' }>;

const runIdPattern = /^[\w.:-]+$/;
const topKeys = new Set(['type', 'run_id', 'seq', 'event']);
const eventKeys = new Set(['name', 'value', 'sent_at', 'labels']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function onlyKeys(o: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}

function stringLabels(labels: unknown): boolean {
  if (!isObject(labels)) return false;
  for (const k in labels) if (k === '__proto__' || typeof labels[k] !== 'string') return false;
  return true;
}

/**
 * The hot path of ingest, checked by hand: `raw` (parsed JSON) when it is an `event` publish
 * that `gatewayClientMessageSchema` accepts exactly as it is — the same limits, and no key the
 * schema would strip, so the publisher's own text is the message — else `undefined`, and the
 * caller validates with the schema (which names the field of a refusal). About one event in
 * every publish is this shape; the schema's general walk costs more than the message's parse.
 *
 * @example
 * plainEvent(JSON.parse('{"type":"event","run_id":"r1","event":{"name":"rps","value":3}}')); // the same object
 * plainEvent({ type: 'event', run_id: 'r1', event: { name: 'rps', value: 3, extra: 1 } }); // undefined: the schema strips `extra`
 */
export function plainEvent(raw: unknown): EventPublish | undefined {
  if (!isObject(raw) || raw['type'] !== 'event' || !onlyKeys(raw, topKeys)) return undefined;
  const { run_id: runId, seq, event } = raw;
  if (typeof runId !== 'string' || runId.length < 1 || runId.length > 128 || !runIdPattern.test(runId)) return undefined;
  if (seq !== undefined && !(typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0)) return undefined;
  if (!isObject(event) || !onlyKeys(event, eventKeys)) return undefined;
  const { name, value, sent_at: sentAt, labels } = event;
  if (typeof name !== 'string' || name.length < 1 || name.length > 128) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  if (sentAt !== undefined && !(typeof sentAt === 'number' && Number.isFinite(sentAt) && sentAt >= 0)) return undefined;
  if (labels !== undefined && !stringLabels(labels)) return undefined;
  return raw as EventPublish;
}
