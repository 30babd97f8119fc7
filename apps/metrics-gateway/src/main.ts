import { pino } from 'pino';
import { GatewayConfigError, loadGatewayConfig } from './config.js';
import { createGateway } from './gateway.js';

const name = 'metrics-gateway';
const fail = (message: string): never => {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: name, msg: message })}\n`);
  process.exit(1);
};

let config;
try {
  config = loadGatewayConfig(process.env, name);
} catch (err) {
  fail(err instanceof GatewayConfigError ? err.message : `${name}: ${(err as Error).message}`);
}
const cfg = config!;
const logger = pino({ name, level: cfg.logLevel, base: { service: name } });
const gateway = createGateway(cfg, { logger });
let url: string;
try {
  url = await gateway.listen();
} catch (err) {
  await gateway.close().catch(() => {});
  fail(`${name}: ${(err as Error).message}`);
}
// One machine-readable line on stdout for whoever started the process (the testbed waits for it).
process.stdout.write(`${JSON.stringify({ event: 'listening', service: name, url: url!, pid: process.pid, dashboard: `${url!}/dashboard` })}\n`);

const stop = (signal: string) => {
  logger.info({ signal }, 'stopping');
  const force = setTimeout(() => process.exit(1), cfg.shutdownTimeoutMs + 2000);
  force.unref();
  gateway.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));
