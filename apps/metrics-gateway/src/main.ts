import { runProcess } from '@crucible/service-kit';
import { loadGatewayConfig } from './config.js';
import { createGateway } from './gateway.js';

await runProcess('metrics-gateway', {
  config: () => loadGatewayConfig(process.env, 'metrics-gateway'),
  create: (config, logger) => createGateway(config, { logger }),
  announce: (url) => ({ dashboard: `${url}/dashboard` }),
});
