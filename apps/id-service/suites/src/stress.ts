// The id-service stress suite: `npx nx run @crucible/id-service-suites:stress [--profile=full] [--live]`.
// The id-service on the embedded PostgreSQL, and, with counts: IDs never collide and each
// project's sequences are its own. The definition and each step live in ./stress/.
import { suiteMain } from '@crucible/suite-kit';
import { idStressSuite } from './stress/suite.js';

suiteMain(idStressSuite);
