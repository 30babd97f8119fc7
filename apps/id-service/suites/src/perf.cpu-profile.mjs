// Preloaded into the id-service by perf.profile.ts (NODE_OPTIONS=--import …; Node 20 does not
// take --cpu-prof there): samples the process's CPU with V8's profiler from SIGUSR2 (sent
// when the load starts, so start-up is not in the profile) to exit, and writes a .cpuprofile
// into CRUCIBLE_CPU_PROFILE_DIR when the process exits.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = process.env.CRUCIBLE_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  // 250 µs: per-request costs are tens of µs, so the default 1 ms is too coarse.
  session.post('Profiler.setSamplingInterval', { interval: 250 });
  process.once('SIGUSR2', () => session.post('Profiler.start'));
  // A session on the process's own thread answers synchronously, so this runs inside 'exit'.
  process.once('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(path.join(dir, `id-service-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
