/**
 * A correctness check on a user's own id endpoint: 200 concurrent calls to `POST /ids`
 * (`{ count }` → `{ first, last }`), then Crucible's ID checker over every answer — no id
 * handed out twice, each range the size asked for, no unexplained gap:
 *
 *   npx crucible run examples/id-endpoint.ts --base-url http://127.0.0.1:8080
 *
 * A duplicate fails the run (exit 1) and the report names the ranges and the calls that got
 * them. `--env CALLS=500 --env COUNT=3` resize it; `--env IDS_PATH=/api/ids` points it elsewhere.
 */
import { burst, checkIds, classifyOutcome, defineRun, type IdOperation } from '@crucible/cli';

const calls = Number(process.env['CALLS'] ?? 200);
const count = Number(process.env['COUNT'] ?? 2);
const path = process.env['IDS_PATH'] ?? '/ids';

export default defineRun({
  scenarios: {
    'concurrent ids': {
      executor: burst({ requests: calls }),
      request: async (ctx): Promise<IdOperation> => {
        const res = await ctx.http.request({ method: 'POST', path, body: { count } });
        const outcome = classifyOutcome({ status: res.status });
        if (outcome !== 'ok') return { project_id: 'default', type: 'id', count, outcome, error: `HTTP ${res.status}` };
        const { first, last } = res.json<{ first: number; last: number }>();
        return { project_id: 'default', type: 'id', count, outcome, first, last, process: ctx.vu };
      },
      checks: { 'answered 200': (op: IdOperation) => op.outcome === 'ok' },
      thresholds: ['errors: rate<0.01'],
      // Every answer, through the ID checker: the verdict `id-uniqueness` in the report.
      verify: (outcomes) => checkIds(outcomes.flatMap((o) => (o.value ? [o.value as IdOperation] : []))),
    },
  },
});
