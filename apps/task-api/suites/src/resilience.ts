// The task-api resilience suite: `npx nx run @crucible/task-api-suites:resilience`.
// Runs the task API on the embedded PostgreSQL behind a real toxiproxy-server and writes
// tasks while the database link misbehaves (the fault steps are suite-kit's
// `resilienceSuite`). Each fault is reported in three phases (before / during / after) with
// its recovery time; the run fails if an acknowledged write is lost or half-written, a
// request hangs, or recovery is slow. Writes reports/<project>/resilience.{json,md,xml,html}.
import { resilienceSuite, suiteMain } from '@crucible/suite-kit';

import { taskApiWorkload } from './resilience.workload.js';

suiteMain(resilienceSuite(taskApiWorkload));
