#!/usr/bin/env bash
# `npm run stress [-- --profile=full] [-- --live]`: every project's stress target, then one
# combined report (reports/combined.*). Extra arguments go to every stress target. The exit
# code is the stress run's (non-zero when any threshold or invariant failed), or the
# merge's when the stress run passed but the merge did not.
set -uo pipefail
cd "$(dirname "$0")/.."
# With --live the dashboard URL must show while the run is going, so stream the output.
style=static
for a in "$@"; do [ "$a" = "--live" ] && style=stream; done
npx nx run-many -t stress --output-style="$style" "$@"
code=$?
npx nx run @crucible/reporting:report --output-style=static --only=stress
merge=$?
[ "$code" -ne 0 ] && exit "$code"
exit "$merge"
