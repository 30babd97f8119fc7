#!/usr/bin/env bash
# Makes redis-server available for the testbed (packages/instruments/testbed/src/redis.ts), pinned
# to the 7.0 series, only when missing: a redis-server on PATH (or $REDIS_SERVER) that reports
# 7.0.x is used as it is; otherwise Debian 12's `redis-server` package (7.0.15) is installed with
# apt-get, as root or through sudo. The testbed runs its own redis-server on a free port in a temp
# dir, so the package's system service must not be left running on 6379: the install runs under a
# policy-rc.d that refuses service starts (when the machine has none of its own), and a system
# service found running afterwards is stopped and disabled. Where it cannot install, it stops
# naming the command to run. Run by the `tools:install-redis` Nx target (not cached: a system
# package a cache hit could not prove is still there). REDIS_VERSION overrides the series (x.y).
set -euo pipefail
SERIES="${REDIS_VERSION:-7.0}"
log() { echo "install-redis: $*" >&2; }
fail() {
  log "$1"
  log "install redis-server $SERIES yourself (e.g. \`sudo apt-get install -y redis-server\`) and rerun, or set REDIS_SERVER to a redis-server $SERIES binary"
  exit 1
}
version_of() { "$1" --version 2>/dev/null | grep -oE 'v=[0-9]+\.[0-9]+\.[0-9]+' | head -n1 | cut -c3- || true; }
series_of() { echo "$1" | cut -d. -f1-2; }

for candidate in "${REDIS_SERVER:-}" "$(command -v redis-server || true)"; do
  [ -n "$candidate" ] || continue
  [ -x "$candidate" ] || { [ "$candidate" = "${REDIS_SERVER:-}" ] && fail "REDIS_SERVER=$candidate is not an executable file"; continue; }
  got="$(version_of "$candidate")"
  if [ "$(series_of "$got")" = "$SERIES" ]; then
    echo "redis-server $got at $candidate"
    exit 0
  fi
  # An explicit binary of another version is an error, not a reason to install a second one.
  fail "$candidate reports version '${got:-none}', pinned $SERIES.x"
done

. "$(dirname "$0")/lib/apt-package.sh"
apt_install redis-server "redis-server=5:$SERIES.*"

# Where a service manager started it anyway (or a policy-rc.d of the machine allowed it): stop it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  log "stopping and disabling the system redis-server service (the testbed starts its own)"
  ${APT_SUDO:-} systemctl disable --now redis-server >/dev/null 2>&1 || true
elif command -v service >/dev/null 2>&1 && service redis-server status >/dev/null 2>&1; then
  log "stopping the system redis-server service (the testbed starts its own)"
  ${APT_SUDO:-} service redis-server stop >/dev/null 2>&1 || true
fi

bin="$(command -v redis-server || true)"
[ -n "$bin" ] || fail "apt-get installed redis-server but it is not on PATH"
got="$(version_of "$bin")"
[ "$(series_of "$got")" = "$SERIES" ] || fail "apt-get installed redis-server but it reports version '${got:-none}', pinned $SERIES.x"
echo "redis-server $got at $bin"
