import { crucibleVitest } from '../../../tools/vitest-preset.mts';

// Tests run against a real toxiproxy-server (tools/install-toxiproxy.sh) and, for the
// database-link tests, the run's real PostgreSQL.
export default crucibleVitest(import.meta.dirname, '@crucible/chaos', { database: true });
