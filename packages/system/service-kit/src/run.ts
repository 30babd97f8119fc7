import { pino, type Logger } from 'pino';
import { loadConfig } from './config.js';
import { createService, waitForDatabase, type ServiceDefinition } from './service.js';

/** Something that listens and stops: a service, the metrics gateway. */
export interface Listener {
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface RunProcessOptions<C extends { logLevel: string; shutdownTimeoutMs: number }> {
  /** Reads the configuration; throws a message naming the variable at fault. */
  config: () => C;
  /** Checks to pass before listening (e.g. the database answers). */
  prepare?: (config: C) => Promise<void>;
  create: (config: C, logger: Logger) => Listener;
  /** Extra fields for the `listening` line (e.g. the dashboard URL). */
  announce?: (url: string) => Record<string, unknown>;
}

/**
 * The `main` of every Crucible process that serves HTTP: configuration, checks, listen,
 * one `{"event":"listening"}` line on stdout (the testbed waits for it), graceful stop on
 * SIGINT/SIGTERM. Any start-up problem is printed as one line that names it (a variable, the
 * port, the database) and exits with code 1.
 */
export async function runProcess<C extends { logLevel: string; shutdownTimeoutMs: number }>(name: string, o: RunProcessOptions<C>): Promise<void> {
  const fail = (err: unknown): never => {
    const message = err instanceof Error ? err.message : String(err);
    const msg = message.startsWith(`${name}:`) ? message : `${name}: ${message}`;
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: name, msg })}\n`);
    process.exit(1);
  };
  let config: C;
  try {
    config = o.config();
    await o.prepare?.(config);
  } catch (err) {
    return fail(err);
  }
  const logger = pino({ name, level: config.logLevel, base: { service: name } });
  const server = o.create(config, logger);
  let url: string;
  try {
    url = await server.listen();
  } catch (err) {
    await server.close().catch(() => {});
    return fail(err);
  }
  process.stdout.write(`${JSON.stringify({ event: 'listening', service: name, url, pid: process.pid, ...o.announce?.(url) })}\n`);
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 2000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

/**
 * The `main` of a database-backed Crucible app: {@link runProcess} with the service kit's
 * configuration and a check that the database answers and holds the schema.
 *
 * @example
 * // apps/id-service/src/main.ts
 * await runService('id-service', idServiceDefinition);
 */
export async function runService(name: string, definition: ServiceDefinition, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await runProcess(name, {
    config: () => loadConfig(name, env),
    prepare: waitForDatabase,
    create: (config, logger) => createService(config, definition, { logger }),
  });
}
