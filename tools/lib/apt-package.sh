# Shared by the tools/install-*.sh scripts that take a system package from Debian's archive:
# sourced, not run. The script defines `fail MESSAGE` (it prints the message and what to do
# instead, then exits) before sourcing this file.
#
# apt_install LABEL SPEC [FALLBACK] (sets APT_SUDO to `sudo -n` or nothing, for the caller's own root steps after it): installs SPEC (e.g. `redis-server=5:7.0.*`) with apt-get,
# as root or through password-less sudo; if it is not in the package lists, runs `apt-get
# update` once and tries again, then FALLBACK (e.g. `nginx`, the candidate) if given. While it
# runs, a policy-rc.d refuses service starts, so a package's system service (nginx on 80,
# redis on 6379, prometheus on 9090) is not started: the testbed starts its own, on free ports.
# A machine's own policy-rc.d is left as it is (Docker images ship one that does the same).
# Nx runs the tools:install-* targets in parallel, and two apt-get runs at once fail on dpkg's
# lock (a clean CI machine installing nginx and redis together lost one of them that way): every
# install here holds one flock for its whole apt-get sequence, and apt-get itself waits for a lock
# another program holds (DPkg::Lock::Timeout).

apt_install() {
  local label="$1" spec="$2" fallback="${3:-}"
  command -v apt-get >/dev/null 2>&1 || fail "no $label found, and no apt-get to install $spec"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || fail "no $label found, and installing it needs root (not root, no password-less sudo)"
    sudo="sudo -n"
  fi
  # For the caller's steps after the install (stopping a service the package started).
  APT_SUDO="$sudo"
  local lockfile="${TMPDIR:-/tmp}/crucible-apt-install.lock"
  exec {apt_lock_fd}>>"$lockfile"
  flock -w 600 "$apt_lock_fd" || fail "waited 600 s for another tools/ install to finish ($lockfile)"
  local policy=/usr/sbin/policy-rc.d own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# tools/lib/apt-package.sh: no service starts during its apt-get install\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    own_policy=1
  fi
  echo "install: no $label found; installing Debian's $spec with apt-get (once)" >&2
  local ok="" try apt_log
  apt_log="$(mktemp)"
  try() { DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$1" >>"$apt_log" 2>&1; }
  if try "$spec"; then
    ok=1
  elif $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq >>"$apt_log" 2>&1; then
    if try "$spec"; then
      ok=1
    elif [ -n "$fallback" ] && try "$fallback"; then
      echo "install: $spec is not in the package lists; installed the candidate $fallback (its version is checked next)" >&2
      ok=1
    fi
  fi
  if [ -n "$own_policy" ]; then $sudo rm -f "$policy"; fi
  flock -u "$apt_lock_fd"
  if [ -z "$ok" ]; then
    tail -n 5 "$apt_log" | sed 's/^/  apt-get: /' >&2
    rm -f "$apt_log"
    fail "apt-get install $spec failed"
  fi
  rm -f "$apt_log"
}
