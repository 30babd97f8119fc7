import { isInstrumentError } from '@crucible/instrument-kit';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../tests/test-servers.js';
import type { EngineEvents, Sink } from './events.js';
import { burst } from './executors.js';
import { run } from './runner.js';
import { scenario } from './scenario.js';
import { openSession } from './session.js';

/** A sink that writes down every event it sees and how often it was attached and closed. */
function recordingSink(): Sink & { seen: string[]; attached: number; closed: number } {
  const sink = {
    name: 'recording',
    seen: [] as string[],
    attached: 0,
    closed: 0,
    attach(events: EngineEvents) {
      sink.attached++;
      events.on('start', () => sink.seen.push('start'));
      events.on('scenario-done', (e) => sink.seen.push(`scenario-done ${e.result.name}`));
      events.on('done', () => sink.seen.push('done'));
    },
    close() {
      sink.closed++;
      sink.seen.push('close');
    },
  };
  return sink;
}

const hit = (name: string) => scenario({ name, executor: burst({ requests: 3 }), request: (ctx) => ctx.http.request({ path: '/' }) });

describe('run session', () => {
  it('keeps its sinks open across runs: one sink sees both runs and is closed exactly once, at close()', async () => {
    await using server = await startTestServer();
    const sink = recordingSink();
    const session = openSession({ baseUrl: server.url, sinks: [sink], runId: 'suite-1' });
    const first = await session.run([hit('first')]);
    expect(sink.closed).toBe(0);
    const second = await session.run(hit('second'));
    expect(sink.closed).toBe(0);
    await session.close();
    await session.close();
    expect(sink).toMatchObject({ attached: 1, closed: 1 });
    expect(sink.seen).toEqual(['start', 'scenario-done first', 'done', 'start', 'scenario-done second', 'done', 'close']);
    // Each run returns its own result, under the session's run id.
    expect([first.runId, second.runId]).toEqual(['suite-1', 'suite-1']);
    expect(first.scenarios.map((s) => [s.name, s.requests])).toEqual([['first', 3]]);
    expect(second.scenarios.map((s) => [s.name, s.requests])).toEqual([['second', 3]]);
    expect(server.received()).toBe(6);
    const late = await session.run(hit('late')).catch((e: unknown) => e);
    expect(isInstrumentError(late, 'used_after_close')).toBe(true);
  });

  it('closes its sinks at the end of an `await using` block, and run() stays the one-shot form', async () => {
    await using server = await startTestServer();
    const sink = recordingSink();
    {
      await using session = openSession({ baseUrl: server.url, sinks: [sink] });
      await session.run(hit('scoped'));
      expect(sink.closed).toBe(0);
    }
    expect(sink.closed).toBe(1);
    const once = recordingSink();
    await run(hit('once'), { baseUrl: server.url, sinks: [once] });
    expect(once.seen).toEqual(['start', 'scenario-done once', 'done', 'close']);
  });

  it('close() waits for a run still in progress before closing the sinks', async () => {
    await using server = await startTestServer(() => 200);
    const sink = recordingSink();
    const session = openSession({ baseUrl: server.url, sinks: [sink] });
    const running = session.run(hit('slow'));
    await session.close();
    expect(sink.seen).toEqual(['start', 'scenario-done slow', 'done', 'close']);
    expect((await running).scenarios[0]?.successes).toBe(3);
  });
});
