// The id-service scale suite: `npx nx run @crucible/id-service-suites:scale [--profile=full]`.
// Three id-service replicas behind a real nginx (tools/install-nginx.sh) reserving on shared
// sequences: each replica's share of the traffic, and no id handed out twice.
import { suiteMain } from '@crucible/suite-kit';
import { idScaleSuite } from './scale.suite.js';

suiteMain(idScaleSuite);
