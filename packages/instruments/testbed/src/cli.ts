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
  },
  env: {
    DATABASE_URL: 'external PostgreSQL; --database-url wins',
    CRUCIBLE_ADMIN_TOKEN: 'admin token for the apps (default: a random one)',
    CRUCIBLE_PG_LOG: "non-empty: copy PostgreSQL's log to stderr; --pg-log wins",
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
  const pgLog = cli.values['pg-log'] ?? Boolean(process.env['CRUCIBLE_PG_LOG']);
  const sut = await startSut({
    ...(apps ? { apps } : {}),
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
