#!/usr/bin/env node
// `npm run sut`: starts the whole system under test, prints ONE JSON line on stdout (every
// URL, the database URL and the admin token; everything else goes to stderr), and stays up
// until Ctrl-C, which tears it all down.
import { InstrumentError, parseCommandLine, usageText, type CommandSpec } from '@crucible/instrument-kit';
import { discoverApps } from './apps.js';
import { startSut } from './sut.js';

const spec = {
  usage: 'npm run sut --',
  flags: {
    apps: { type: 'string', value: '<a,b>', description: 'apps to start, comma-separated (default: every app under apps/)' },
    chaos: { type: 'boolean', description: 'put a Toxiproxy proxy between each app and PostgreSQL (adds toxiproxy_url)' },
    'database-url': { type: 'string', value: '<url>', description: 'an external PostgreSQL (default DATABASE_URL, else embedded)' },
    'pg-log': { type: 'boolean', description: "copy PostgreSQL's log to stderr (default CRUCIBLE_PG_LOG)" },
    replicas: { type: 'string', value: '<app=N,…>', description: 'start N processes of an app (e.g. task-api=3); the JSON line gives the first one\'s URL as <app>_url' },
    balance: { type: 'string', value: '<a,b>', description: 'put an nginx in front of every replica of these apps (adds <app>_balanced_url; needs nginx: tools/install-nginx.sh)' },
    redis: { type: 'boolean', description: 'start a redis-server (or use REDIS_URL) that every app shares (adds redis_url)' },
  },
  env: {
    DATABASE_URL: 'external PostgreSQL; --database-url wins',
    CRUCIBLE_ADMIN_TOKEN: 'admin token for the apps (default: a random one)',
    CRUCIBLE_PG_LOG: "non-empty: copy PostgreSQL's log to stderr; --pg-log wins",
    REDIS_URL: 'with --redis: an external Redis instead of a started redis-server',
  },
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean'; description: string; value?: string }>>;

try {
  const cli = parseCommandLine(process.argv.slice(2), spec);
  if (cli.help) {
    process.stdout.write(usageText(spec));
    process.exit(0);
  }
  const known = discoverApps().map((a) => a.name);
  const apps = cli.values.apps?.split(',').map((a) => a.trim()).filter(Boolean);
  const unknown = apps?.filter((a) => !known.includes(a)) ?? [];
  if (apps?.length === 0 || unknown.length > 0) {
    throw new InstrumentError('bad_argument', `--apps: unknown app "${unknown[0] ?? ''}"; known apps are ${known.join(', ')}`);
  }
  const replicas = parseReplicas(cli.values.replicas, apps ?? known);
  const balance = cli.values.balance?.split(',').map((a) => a.trim()).filter(Boolean);
  for (const app of balance ?? []) {
    if (!(apps ?? known).includes(app)) throw new InstrumentError('bad_argument', `--balance: "${app}" is not an app started (${(apps ?? known).join(', ')})`);
  }
  const pgLog = cli.values['pg-log'] ?? Boolean(process.env['CRUCIBLE_PG_LOG']);
  const sut = await startSut({
    ...(apps ? { apps } : {}),
    ...(replicas ? { replicas } : {}),
    ...(balance?.length ? { balance } : {}),
    redis: cli.values.redis ?? false,
    chaos: cli.values.chaos ?? false,
    databaseUrl: cli.values['database-url'] ?? process.env['DATABASE_URL'],
    log: pgLog ? (l) => process.stderr.write(l) : undefined,
  });
  process.stdout.write(`${JSON.stringify(sut.summary())}\n`);
  process.stderr.write('system under test is up; press Ctrl-C to stop and clean up\n');
  setInterval(() => {}, 1 << 30);
} catch (err) {
  process.stderr.write(`sut: ${(err as Error).message}\n`);
  process.exit(err instanceof InstrumentError && err.kind === 'usage' ? 2 : 1);
}

/** `--replicas task-api=3,id-service=2`: a whole number from 1 to 16 per app started. */
function parseReplicas(value: string | undefined, started: readonly string[]): Record<string, number> | undefined {
  if (value === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([\w-]+)=(\d+)$/.exec(part);
    const n = m ? Number(m[2]) : NaN;
    if (!m || !Number.isInteger(n) || n < 1 || n > 16) throw new InstrumentError('bad_argument', `--replicas: "${part}" must be <app>=<1..16>, e.g. task-api=3`);
    if (!started.includes(m[1]!)) throw new InstrumentError('bad_argument', `--replicas: "${m[1]}" is not an app started (${started.join(', ')})`);
    out[m[1]!] = n;
  }
  return out;
}
