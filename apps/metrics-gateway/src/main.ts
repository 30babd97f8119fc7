import { runProcess } from '@crucible/service-kit';
import { loadGatewayConfig } from './config.js';
import { createGateway } from './gateway.js';
import { checkHistoryDatabase } from './history/history.check.js';

await runProcess('metrics-gateway', {
  config: () => loadGatewayConfig(process.env, 'metrics-gateway'),
  // With DATABASE_URL the history must be writable from the start; without, nothing to check.
  prepare: async (config) => {
    if (config.store) await checkHistoryDatabase(config.store, config.store.startupTimeoutMs);
  },
  create: (config, logger) => createGateway(config, { logger }),
  announce: (url) => ({ dashboard: `${url}/dashboard` }),
});
