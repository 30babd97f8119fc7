import { runService } from '@crucible/service-kit';
import { definition } from './app.js';

await runService('task-api', definition);
