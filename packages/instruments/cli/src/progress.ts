import { consoleSink, tickLine, type EngineEvents, type Sink } from '@crucible/load-engine';

/**
 * Progress of `crucible run`: in a terminal, one live line per scenario redrawn every second;
 * otherwise (CI logs, a pipe) the load engine's plain per-second lines, which a log keeps.
 */

/**
 * A sink that keeps one line per scenario and redraws the block in place (ANSI cursor-up),
 * so a long run in a terminal shows where every scenario is without scrolling.
 */
export function liveLinesSink(out: NodeJS.WritableStream): Sink {
  const lines = new Map<string, string>();
  let drawn = 0;
  const redraw = (): void => {
    const block = [...lines.values()].map((l) => `\u001b[2K${l.trimEnd()}\n`).join('');
    out.write(`${drawn > 0 ? `\u001b[${drawn}A` : ''}${block}`);
    drawn = lines.size;
  };
  return {
    name: 'live-lines',
    attach(events: EngineEvents) {
      events.on('start', (e) => {
        for (const s of e.scenarios) lines.set(s.name, `  ${s.name}: starting`);
        redraw();
      });
      events.on('scenario-start', (e) => {
        lines.set(e.scenario, `  ${e.scenario}: ${e.phase === 'warmup' ? 'warming up (not counted)' : 'measuring'}`);
        redraw();
      });
      events.on('tick', (t) => {
        lines.set(t.scenario, tickLine(t, undefined));
        redraw();
      });
      events.on('scenario-done', ({ result: r }) => {
        lines.set(r.name, `✔ ${r.name}: ${r.requests} requests, ${r.requests - r.successes} failed, ${r.dropped} dropped in ${r.durationS.toFixed(1)} s`);
        redraw();
      });
    },
  };
}

/** The progress sink for `out`: live lines on a TTY, plain lines otherwise. */
export function progressSink(out: NodeJS.WritableStream & { isTTY?: boolean }): Sink {
  return out.isTTY ? liveLinesSink(out) : consoleSink({ out });
}
