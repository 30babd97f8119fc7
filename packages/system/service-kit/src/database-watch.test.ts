import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { armFailpoints } from './failpoints.js';
import { DatabaseWatch } from './database-watch.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), events: () => lines.filter((l) => l['event']).map((l) => l['event']), lines };
}

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
};

describe('DatabaseWatch', () => {
  it('logs one db_unreachable per outage, however many failures, and db_recovered when the probe answers', async () => {
    const log = capture();
    let answers = false;
    const watch = new DatabaseWatch({ logger: log.logger, probe: async () => (answers ? 1 : Promise.reject(new Error('ECONNREFUSED'))), probeEveryMs: 20 });
    for (let i = 0; i < 5; i++) watch.failed(new Error('connect ECONNREFUSED'));
    await new Promise((r) => setTimeout(r, 100));
    expect(log.events()).toEqual(['db_unreachable']);
    answers = true;
    await until(() => log.events().length === 2);
    expect(log.events()).toEqual(['db_unreachable', 'db_recovered']);
    const recovered = log.lines.find((l) => l['event'] === 'db_recovered');
    expect(recovered?.['outage_ms']).toBeGreaterThanOrEqual(100);
    expect(Date.parse(String(recovered?.['at']))).toBeGreaterThan(0);
    expect(watch.downSince).toBeUndefined();
    watch.close();
  });

  it('without a probe, a success seen elsewhere ends the outage; the planted silence (db.no-recovery-log) drops only the record', () => {
    const log = capture();
    const watch = new DatabaseWatch({ logger: log.logger });
    watch.succeeded();
    expect(log.events()).toEqual([]);
    watch.failed(new Error('down'));
    watch.succeeded();
    expect(log.events()).toEqual(['db_unreachable', 'db_recovered']);
    armFailpoints({ 'db.no-recovery-log': 1 });
    try {
      watch.failed(new Error('down again'));
      watch.succeeded();
      expect(log.events()).toEqual(['db_unreachable', 'db_recovered', 'db_unreachable']);
      expect(watch.downSince).toBeUndefined();
    } finally {
      armFailpoints({});
    }
  });
});
