// The id-service resilience suite: `npx nx run @crucible/id-service-suites:resilience`.
// Runs the id-service on the embedded PostgreSQL behind a real toxiproxy-server and puts
// keyed reservations on it while the database link misbehaves (the fault steps are
// suite-kit's `resilienceSuite`). Each fault is reported in three phases (before / during /
// after) with its recovery time; the run fails if an ID is handed out twice, an
// acknowledged range is lost, a request hangs, or recovery is slow. Writes
// reports/<project>/resilience.{json,md,xml,html}.
import { resilienceSuite, suiteMain } from '@crucible/suite-kit';

import { idServiceWorkload } from './resilience.workload.js';

suiteMain(resilienceSuite(idServiceWorkload));
