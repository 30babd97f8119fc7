import { gatewayClientMessageSchema } from '@crucible/contracts';
import { describe, expect, it } from 'vitest';
import { plainEvent } from './plain-event.js';

const event = (over: Record<string, unknown> = {}, eventOver: Record<string, unknown> = {}) => ({
  type: 'event',
  run_id: 'load-1',
  event: { name: 'load', value: 3, sent_at: 1_700_000_000_000.25, ...eventOver },
  ...over,
});

// Every case the fast path takes, the schema takes too and parses to the same message; every
// case it declines is left to the schema (which accepts some of them, stripping keys).
const cases: unknown[] = [
  event(),
  event({ seq: 7 }),
  event({}, { labels: { route: '/x', method: 'GET' } }),
  event({}, { sent_at: undefined }),
  event({}, { value: -1.5e300 }),
  event({ run_id: 'a.b:c-d_9' }),
  event({ run_id: 'x'.repeat(128) }),
  event({ run_id: 'x'.repeat(129) }),
  event({ run_id: '' }),
  event({ run_id: 'bad id' }),
  event({ run_id: 7 }),
  event({ seq: 0 }),
  event({ seq: 1.5 }),
  event({ seq: -3 }),
  event({ seq: '3' }),
  event({ extra: true }),
  event({}, { extra: true }),
  event({}, { name: '' }),
  event({}, { name: 'n'.repeat(129) }),
  event({}, { value: '3' }),
  event({}, { value: null }),
  event({}, { sent_at: -1 }),
  event({}, { labels: { a: 1 } }),
  event({}, { labels: ['a'] }),
  event({}, { labels: null }),
  JSON.parse('{"type":"event","run_id":"r","event":{"name":"n","value":1,"labels":{"__proto__":"x"}}}'),
  { type: 'event', run_id: 'r', event: [] },
  { type: 'event', run_id: 'r' },
  { type: 'subscribe', run_id: 'r' },
  { type: 'snapshot', run_id: 'r', snapshot: {} },
  [],
  null,
  'event',
];

describe('plainEvent (the ingest fast path)', () => {
  it('takes only what the schema accepts unchanged, and gives the schema’s own message', () => {
    let taken = 0;
    for (const raw of cases) {
      const fast = plainEvent(raw);
      const parsed = gatewayClientMessageSchema.safeParse(raw);
      if (fast === undefined) continue;
      taken++;
      expect(parsed.success, JSON.stringify(raw)).toBe(true);
      expect(fast, JSON.stringify(raw)).toEqual(parsed.data);
    }
    expect(taken).toBe(7);
  });

  it('declines what the schema refuses, so the refusal still names the field', () => {
    for (const raw of cases) if (!gatewayClientMessageSchema.safeParse(raw).success) expect(plainEvent(raw), JSON.stringify(raw)).toBeUndefined();
  });

  it('declines a message whose keys the schema would strip (the publisher’s text is then not the message)', () => {
    expect(gatewayClientMessageSchema.safeParse(event({ extra: true })).success).toBe(true);
    expect(plainEvent(event({ extra: true }))).toBeUndefined();
    expect(plainEvent(event({}, { extra: true }))).toBeUndefined();
  });
});
