#!/usr/bin/env bash
# Makes wrk (the C HTTP benchmark, https://github.com/wg/wrk) available for the load engine's
# comparison script (packages/instruments/load-engine/src/bench/vs-autocannon.ts), pinned to
# 4.1.0, only when missing: a wrk on PATH that reports 4.1.0 is used as it is; otherwise
# Debian's `wrk` package (its 4.1.0 build) is installed with apt-get, as root or through
# sudo. Where it cannot install, it stops naming the command to run. Run by the
# `tools:install-wrk` Nx target. (The comparison in issue 12 names k6; k6 is under the AGPL,
# which this project's package policy excludes, so wrk is the out-of-process reference.)
set -euo pipefail
VERSION="4.1.0"
log() { echo "install-wrk: $*" >&2; }
fail() {
  log "$1"
  log "install wrk $VERSION yourself (e.g. \`sudo apt-get install -y wrk\`) and rerun"
  exit 1
}
version_of() { wrk -v 2>&1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true; }
if command -v wrk >/dev/null 2>&1; then
  got="$(version_of)"
  if [ "$got" = "$VERSION" ]; then echo "wrk $got at $(command -v wrk)"; exit 0; fi
  fail "$(command -v wrk) reports version '${got:-none}', pinned $VERSION"
fi
. "$(dirname "$0")/lib/apt-package.sh"
apt_install wrk "wrk=$VERSION-*"
got="$(version_of)"
[ "$got" = "$VERSION" ] || fail "apt-get installed wrk but it reports version '${got:-none}'"
echo "wrk $got at $(command -v wrk)"
