import { PassThrough } from 'node:stream';
import { constantArrivalRate, EngineEvents, run } from '@crucible/load-engine';
import { describe, expect, it } from 'vitest';
import { startItemsServer } from '../tests/items-server.js';
import { progressSink } from './progress.js';
import { buildScenarios } from './scenarios.js';
import type { RunDefinition } from './define-run.js';

/** A stream that says it is (or is not) a terminal, keeping what was written. */
function terminal(isTTY: boolean): { out: PassThrough & { isTTY?: boolean }; text: () => string } {
  const out = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  return { out, text: () => text };
}

describe('progress', () => {
  it('in a terminal redraws one line per scenario in place; in a log writes plain lines', async () => {
    await using server = await startItemsServer();
    const executor = constantArrivalRate({ rate: 10, duration: '2s', preAllocatedVUs: 2 });
    const request = (ctx: { http: { request(r: { path: string; headers: Record<string, string> }): Promise<unknown> } }) => ctx.http.request({ path: '/items', headers: { authorization: 'Bearer dev-token' } });
    const scenarios = buildScenarios({ scenarios: { a: { executor, request }, b: { executor, request } } } as unknown as RunDefinition);
    const tty = terminal(true);
    const log = terminal(false);
    const events = new EngineEvents();
    progressSink(tty.out).attach(events);
    progressSink(log.out).attach(events);
    await run(scenarios, { baseUrl: server.url, events });
    // Two scenarios: after the first draw every redraw moves up two lines and clears each.
    expect(tty.text()).toContain('\u001b[2A');
    expect(tty.text()).toContain('\u001b[2K✔ a: 20 requests');
    expect(tty.text()).toContain('\u001b[2K  [  1 s] a:');
    expect(log.text()).not.toContain('\u001b[');
    expect(log.text()).toMatch(/\[ {2}1\/2 s\] a/);
    expect(log.text()).toContain('✔ b: 20 requests');
  });
});
