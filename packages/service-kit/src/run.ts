import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { createService, waitForDatabase, type ServiceDefinition } from './service.js';

/**
 * The `main` of every Crucible HTTP app: reads the configuration, checks the database,
 * listens, and stops gracefully on SIGINT/SIGTERM. Any start-up problem is printed as one
 * line that names it (a variable, the port, the database) and exits with code 1.
 *
 * @example
 * // apps/id-service/src/main.ts
 * await runService('id-service', idServiceDefinition);
 */
export async function runService(name: string, definition: ServiceDefinition, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const fail = (message: string): never => {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: name, msg: message })}\n`);
    process.exit(1);
  };
  let config;
  try {
    config = loadConfig(name, env);
  } catch (err) {
    return fail(err instanceof ConfigError ? err.message : `${name}: ${(err as Error).message}`);
  }
  const logger = pino({ name, level: config.logLevel, base: { service: name } });
  try {
    await waitForDatabase(config);
  } catch (err) {
    return fail(`${name}: ${(err as Error).message}`);
  }
  const service = createService(config, definition, { logger });
  let url: string;
  try {
    url = await service.listen();
  } catch (err) {
    await service.close().catch(() => {});
    return fail(`${name}: ${(err as Error).message}`);
  }
  // One machine-readable line on stdout for whoever started the process.
  process.stdout.write(`${JSON.stringify({ event: 'listening', service: name, url, pid: process.pid })}\n`);
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 2000);
    force.unref();
    service.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
