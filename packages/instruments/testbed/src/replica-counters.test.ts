import { describe, expect, it } from 'vitest';
import { counterDeltas, parseCounters } from './replica-counters.js';

const exposition = `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total{service="task-api"} 1.25
http_request_duration_seconds_bucket{le="0.001",method="GET",route="/tasks",status="200",service="task-api"} 3
http_request_duration_seconds_count{method="GET",route="/tasks",status="200",service="task-api"} 40
http_request_duration_seconds_count{method="POST",route="/tasks",status="201",service="task-api"} 2
http_request_duration_seconds_count{method="GET",route="/metrics",status="200",service="task-api"} 9
http_request_duration_seconds_count{method="GET",route="/health",status="200",service="task-api"} 7
`;

describe('parseCounters', () => {
  it('counts every route but /metrics and /health, and reads the process CPU', () => {
    expect(parseCounters(exposition)).toEqual({ requests: 42, cpuSeconds: 1.25 });
  });

  it('throws naming the figure a replica did not expose, instead of a zero share', () => {
    expect(() => parseCounters('process_cpu_seconds_total 1\n')).toThrow(/lacks http_request_duration_seconds_count/);
    expect(() => parseCounters('http_request_duration_seconds_count{route="/x"} 1\n')).toThrow(/lacks process_cpu_seconds_total/);
  });

  it('gives what each replica did between two readings', () => {
    expect(counterDeltas([{ requests: 10, cpuSeconds: 1 }], [{ requests: 25, cpuSeconds: 1.5 }])).toEqual([{ requests: 15, cpuSeconds: 0.5 }]);
  });
});
