import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { startSut, waitHealthy } from '@crucible/testbed';
const sut = await startSut({ apps: ['id-service'] });
const { api_key } = await sut.createProject('perf1');
const args = process.env.DIST ? ['--cpu-prof', '--cpu-prof-dir=/tmp/idprof', '/tmp/iddist/main.js'] : ['--cpu-prof', '--cpu-prof-dir=/tmp/idprof', '--conditions=@crucible/source', '--import', 'tsx', '/work/main/apps/id-service/src/main.ts'];
const child = spawn(process.execPath, args, {
  env: { ...process.env, DATABASE_URL: sut.databaseUrl, CRUCIBLE_ADMIN_TOKEN: sut.adminToken, PORT: '45123', LOG_LEVEL: 'warn', DB_POOL_MAX: process.env.POOL ?? '8' }, stdio: 'inherit' });
const url = 'http://127.0.0.1:45123';
await new Promise((r) => setTimeout(r, 3000));
await waitHealthy(url, 20000);
const body = process.env.BODY ?? JSON.stringify({ type: 'US', count: 1 });
const r = await autocannon({ url: `${url}/ids/reserve`, connections: 50, duration: 8, method: 'POST', headers: { authorization: `Bearer ${api_key}`, 'content-type': 'application/json' }, body });
console.log('rps', (r['2xx'] + r.non2xx) / r.duration, 'non2xx', r.non2xx);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await sut.stop();
