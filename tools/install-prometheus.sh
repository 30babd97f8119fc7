#!/usr/bin/env bash
# Makes a Prometheus server available for the load engine's Prometheus sink test (a real
# receiver scraping a run), pinned to the 2.42 series (Debian 12's package), only when missing:
# a prometheus on PATH (or $PROMETHEUS) that reports 2.42.x is used as it is; otherwise Debian's
# `prometheus` package is installed (tools/lib/apt-package.sh: no system service left running on
# 9090; the test starts its own on a free port). Run by the `tools:install-prometheus` Nx target
# (not cached: a system package a cache hit could not prove is still there).
set -euo pipefail
SERIES="${PROMETHEUS_VERSION:-2.42}"
fail() {
  echo "install-prometheus: $1" >&2
  echo "install-prometheus: install prometheus $SERIES yourself (e.g. \`sudo apt-get install -y prometheus\`) and rerun, or set PROMETHEUS to a prometheus $SERIES binary" >&2
  exit 1
}
. "$(dirname "$0")/lib/apt-package.sh"
version_of() { "$1" --version 2>&1 | grep -oE 'version [0-9]+\.[0-9]+\.[0-9]+' | head -n1 | cut -d' ' -f2 || true; }
series_of() { echo "$1" | cut -d. -f1-2; }

for candidate in "${PROMETHEUS:-}" "$(command -v prometheus || true)"; do
  [ -n "$candidate" ] && [ -x "$candidate" ] || continue
  got="$(version_of "$candidate")"
  if [ "$(series_of "$got")" = "$SERIES" ]; then
    echo "prometheus $got at $candidate"
    exit 0
  fi
  echo "install-prometheus: ignoring $candidate: version '${got:-none}', pinned $SERIES.x" >&2
done

apt_install prometheus "prometheus=$SERIES.*"
# Where a service manager started it anyway: stop it.
if command -v service >/dev/null 2>&1 && service prometheus status >/dev/null 2>&1; then service prometheus stop >/dev/null 2>&1 || true; fi
bin="$(command -v prometheus || true)"
[ -n "$bin" ] || fail "apt-get installed prometheus but it is not on PATH"
got="$(version_of "$bin")"
[ "$(series_of "$got")" = "$SERIES" ] || fail "apt-get installed prometheus but it reports version '${got:-none}', pinned $SERIES.x"
echo "prometheus $got at $bin"
