# Shared by the tools/install-*.sh scripts that take a system package from Debian's archive:
# sourced, not run. Defines apt_install <tool> <package=version-pattern>: installs it with
# apt-get as root or through password-less sudo (running `apt-get update` once if the first
# try fails), with a policy-rc.d that refuses service starts, so a package's system service
# (nginx on 80, redis on 6379, prometheus on 9090) is never left running: the testbed starts
# its own. A machine's own policy-rc.d is left as it is. Stops naming the command on failure.

apt_fail() {
  echo "install-$APT_TOOL: $1" >&2
  echo "install-$APT_TOOL: install it yourself (e.g. \`sudo apt-get install -y $APT_PKG\`) and rerun" >&2
  exit 1
}

apt_install() {
  APT_TOOL="$1"
  APT_PKG="$2"
  command -v apt-get >/dev/null 2>&1 || apt_fail "not found, and no apt-get to install $APT_PKG"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || apt_fail "not found, and installing it needs root (not root, no password-less sudo)"
    sudo="sudo -n"
  fi
  local policy=/usr/sbin/policy-rc.d own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    own_policy=1
  fi
  echo "install-$APT_TOOL: installing Debian's $APT_PKG with apt-get (once)" >&2
  local ok=1
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$APT_PKG" >/dev/null 2>&1; then
    if ! $sudo apt-get update -qq || ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$APT_PKG" >/dev/null; then ok=""; fi
  fi
  if [ -n "$own_policy" ]; then $sudo rm -f "$policy"; fi
  [ -n "$ok" ] || apt_fail "apt-get install $APT_PKG failed"
}
