#!/usr/bin/env bash
# `npm run stress [-- --profile=full] [-- --live]`: every project's stress target, then one
# combined report (reports/combined.*). Extra arguments go to every stress target, whose own
# strict parser (suite-kit parseSuiteArgs) refuses an unknown flag or value, naming it. The
# exit code is the combined report's (0 pass, 1 failed, 2 crash or bad argument, 4 inconclusive:
# a starved load generator), or the stress run's when it failed and no report says why.
set -uo pipefail
cd "$(dirname "$0")/.."
for a in "$@"; do
  case "$a" in
    -h | --help)
      # Answered here: `nx run-many --help` would print Nx's own help instead.
      cat <<'USAGE'
usage: npm run stress [-- --profile=quick|full] [-- --live]

Runs every project's stress suite (one at a time), then merges their reports into
reports/combined.{json,md,xml,html}.

flags (passed to every suite):
  --profile=quick|full  quick (default) or full, the long form of every scenario
  --live                stream each run to the metrics gateway's live dashboard
  --help                print this help and exit

environment: CRUCIBLE_PROFILE (default profile; --profile wins), DATABASE_URL (an external
PostgreSQL), CRUCIBLE_GATEWAY_URL / CRUCIBLE_GATEWAY_TOKEN (--live to a running gateway).
USAGE
      exit 0
      ;;
  esac
done
# Streamed, so each scenario's per-second line shows while it runs (stress targets run one at
# a time, so lines never interleave); no project prefix, as every suite names itself.
started="$(mktemp)"
trap 'rm -f "$started"' EXIT
npx nx run-many -t stress --output-style=stream-without-prefixes "$@"
code=$?
if [ -z "$(find reports -name stress.json -newer "$started" 2>/dev/null | head -n1)" ]; then
  # Every suite crashed or refused its arguments, so none wrote a report: merging would
  # combine older runs' reports and look like this run's result.
  echo "stress: no suite wrote a report in this run (see the errors above); not merging (exit $code)" >&2
  [ "$code" -ne 0 ] && exit "$code"
  exit 2
fi
# The report CLI itself, not `nx run …:report`: Nx would turn its 4 (inconclusive) into 1 too.
node --conditions=@crucible/source --import tsx packages/instruments/reporting/src/cli.ts merge --only=stress
merge=$?
# Nx reports any failing target as 1, so a suite's own 4 (inconclusive) or 3 would be lost: the
# merge re-reads every report of this run and gives the run's real code. Only when the merge
# saw nothing wrong while a target still failed does the target's code stand.
[ "$code" -ne 0 ] && [ "$merge" -eq 0 ] && exit "$code"
exit "$merge"
