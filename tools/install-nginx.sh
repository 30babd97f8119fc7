#!/usr/bin/env bash
# Makes an nginx binary available for the testbed's load balancer
# (packages/instruments/testbed/src/nginx.ts), pinned to 1.22 (Debian 12's 1.22.1), only
# when missing: $NGINX if set (it must be executable), else an nginx on PATH or at
# /usr/sbin/nginx whose major.minor is the pin's, else Debian's `nginx` package installed
# with apt-get (as root or through sudo). The package's post-install would start a system
# nginx on port 80; the testbed runs its own on a free port, so the install runs under a
# policy-rc.d that forbids starting services, and any system nginx it still started is
# stopped. Where it cannot install, it stops naming the command to run. Run by the
# `tools:install-nginx` Nx target that every `scale` target and the testbed's tests depend
# on. NGINX_VERSION overrides the pin (major.minor is what is compared).
set -euo pipefail
VERSION="${NGINX_VERSION:-1.22.1}"
want="$(echo "$VERSION" | cut -d. -f1,2)"
log() { echo "install-nginx: $*" >&2; }
fail() {
  log "$1"
  log "install nginx $want yourself (e.g. \`sudo apt-get install -y nginx\`) and rerun, or set NGINX to an nginx $want binary"
  exit 1
}
# `nginx -v` prints "nginx version: nginx/1.22.1" on stderr.
version_of() { "$1" -v 2>&1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true; }
minor_of() { echo "$1" | cut -d. -f1,2; }
accept() {
  local got
  got="$(version_of "$1")"
  if [ "$(minor_of "$got")" = "$want" ]; then
    echo "nginx $got at $1"
    exit 0
  fi
  log "$1 reports version '${got:-none}', pinned $want.x"
  return 1
}
if [ -n "${NGINX:-}" ]; then
  # An explicit path that does not work is an error, not a reason to pick another binary.
  [ -x "$NGINX" ] || fail "NGINX=$NGINX is not an executable file"
  accept "$NGINX" || fail "NGINX=$NGINX is not nginx $want (set NGINX_VERSION to accept it)"
fi
for c in "$(command -v nginx || true)" /usr/sbin/nginx; do
  [ -n "$c" ] && [ -x "$c" ] || continue
  accept "$c" || fail "the nginx found is not the pinned $want (set NGINX_VERSION to accept it, or NGINX to another binary)"
done
. "$(dirname "$0")/lib/apt-package.sh"
# The pinned release, else the archive's candidate (its major.minor is checked below).
apt_install nginx "nginx=$VERSION-*" nginx
# A policy that allowed the start, or an init without policy-rc.d: stop the system nginx so
# nothing of it holds port 80.
# Only the system one (its pid file): testbed nginx processes of other runs are left alone.
if [ -s /run/nginx.pid ]; then
  log "stopping the system nginx the package started (the testbed runs its own)"
  ${APT_SUDO:-} /usr/sbin/nginx -s quit 2>/dev/null || ${APT_SUDO:-} kill "$(cat /run/nginx.pid)" 2>/dev/null || true
fi
[ -x /usr/sbin/nginx ] || fail "apt-get installed nginx but /usr/sbin/nginx is missing"
accept /usr/sbin/nginx || fail "apt-get installed an nginx that is not the pinned $want"
