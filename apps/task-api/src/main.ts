import { runService } from '@crucible/service-kit';
import { taskApiFromEnv } from './app.js';

let definition;
try {
  definition = taskApiFromEnv();
} catch (err) {
  // Same one-line fatal record runService prints for the kit's own variables.
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'task-api', msg: (err as Error).message })}\n`);
  process.exit(1);
}
await runService('task-api', definition);
