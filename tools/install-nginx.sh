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
command -v apt-get >/dev/null 2>&1 || fail "no nginx on PATH or at /usr/sbin/nginx, and no apt-get to install one"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null ||
    fail "no nginx found, and installing it needs root (not root, no password-less sudo)"
  sudo="sudo -n"
fi
# Forbid service starts during the install (exit 101 = "action not allowed"), unless a
# policy is already there (Docker images ship one that does the same); ours is removed after.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# install-nginx.sh: no service starts during its apt-get install\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  own_policy=1
fi
cleanup() { if [ -n "$own_policy" ]; then $sudo rm -f "$policy"; fi; }
trap cleanup EXIT
log "no nginx found; installing Debian's nginx $VERSION with apt-get (once)"
$sudo apt-get update -qq || fail "apt-get update failed"
if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "nginx=$VERSION-*" >/dev/null 2>&1; then
  candidate="$(apt-cache policy nginx 2>/dev/null | awk '/Candidate:/ { print $2 }')"
  [ "$(minor_of "$candidate")" = "$want" ] || fail "apt's nginx candidate is '${candidate:-none}', not the pinned $want.x"
  log "nginx=$VERSION-* is not in the package lists; installing the candidate $candidate"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx >/dev/null || fail "apt-get install nginx failed"
fi
# A policy that allowed the start, or an init without policy-rc.d: stop the system nginx so
# nothing of it holds port 80.
# Only the system one (its pid file): testbed nginx processes of other runs are left alone.
if [ -s /run/nginx.pid ]; then
  log "stopping the system nginx the package started (the testbed runs its own)"
  $sudo /usr/sbin/nginx -s quit 2>/dev/null || $sudo kill "$(cat /run/nginx.pid)" 2>/dev/null || true
fi
[ -x /usr/sbin/nginx ] || fail "apt-get installed nginx but /usr/sbin/nginx is missing"
accept /usr/sbin/nginx || fail "apt-get installed an nginx that is not the pinned $want"
