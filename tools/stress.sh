#!/usr/bin/env bash
# `npm run stress [-- --profile=full] [-- --live] [-- --publish[=URL]]`: every project's stress
# target, then one combined report (reports/combined.*); with --publish, each suite's report of
# this run then goes into the metrics gateway's run history (`crucible publish`). Extra arguments go to every stress target, whose own
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
usage: npm run stress [-- --profile=quick|full] [-- --live] [-- --publish[=URL]]

Runs every project's stress suite (one at a time), then merges their reports into
reports/combined.{json,md,xml,html}.

flags (passed to every suite):
  --profile=quick|full  quick (default) or full, the long form of every scenario
  --live                stream each run to the metrics gateway's live dashboard
  --publish[=URL]       afterwards, send each suite's report to the gateway's run history
                        (URL, else CRUCIBLE_HISTORY_URL; needs CRUCIBLE_HISTORY_KEY)
  --help                print this help and exit

environment: CRUCIBLE_PROFILE (default profile; --profile wins), DATABASE_URL (an external
PostgreSQL), CRUCIBLE_GATEWAY_URL / CRUCIBLE_GATEWAY_TOKEN (--live to a running gateway),
CRUCIBLE_HISTORY_URL / CRUCIBLE_HISTORY_KEY / CRUCIBLE_MACHINE_CLASS (--publish).
USAGE
      exit 0
      ;;
  esac
done
# --publish is this script's, not the suites' (their strict parser would refuse it): taken out
# here and checked before any suite runs, so a run meant for the history does not go unrecorded.
publish=""
args=()
for a in "$@"; do
  case "$a" in
    --publish) publish="${CRUCIBLE_HISTORY_URL:-}"; [ -n "$publish" ] || { echo "stress: --publish needs a URL (--publish=URL) or CRUCIBLE_HISTORY_URL" >&2; exit 2; } ;;
    --publish=*) publish="${a#--publish=}"; [ -n "$publish" ] || { echo "stress: --publish= needs a URL" >&2; exit 2; } ;;
    *) args+=("$a") ;;
  esac
done
if [ -n "$publish" ] && [ -z "${CRUCIBLE_HISTORY_KEY:-}" ]; then
  echo "stress: --publish needs CRUCIBLE_HISTORY_KEY (a project API key of the gateway: POST /admin/projects gives one)" >&2
  exit 2
fi
set -- "${args[@]+"${args[@]}"}"
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
if [ -n "$publish" ]; then
  mapfile -t fresh < <(find reports -name stress.json -newer "$started" | sort)
  node --conditions=@crucible/source --import tsx packages/instruments/cli/src/cli.ts publish --to "$publish" "${fresh[@]}" || merge=$([ "$merge" -eq 0 ] && echo 2 || echo "$merge")
fi
# Nx reports any failing target as 1, so a suite's own 4 (inconclusive) or 3 would be lost: the
# merge re-reads every report of this run and gives the run's real code. Only when the merge
# saw nothing wrong while a target still failed does the target's code stand.
[ "$code" -ne 0 ] && [ "$merge" -eq 0 ] && exit "$code"
exit "$merge"
