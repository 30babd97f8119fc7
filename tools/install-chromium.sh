#!/usr/bin/env bash
# Makes a system Chromium available for Playwright (never a browser download), only when
# none is found: CHROMIUM_PATH if set (it must be executable), else the first of the paths
# apps/metrics-gateway/suites/playwright.config.ts looks at, else `apt-get install chromium`
# (as root, or through sudo). Where it cannot install, it stops naming the command to run.
# Run by the `tools:install-chromium` Nx target, which every `e2e` target depends on.
set -euo pipefail
log() { echo "install-chromium: $*" >&2; }
fail() {
  log "$1"
  log "install Chromium yourself (e.g. \`sudo apt-get install -y chromium\`) and rerun, or set CHROMIUM_PATH to a Chromium or Chrome binary"
  exit 1
}
if [ -n "${CHROMIUM_PATH:-}" ]; then
  # An explicit path that does not work is an error, not a reason to pick another browser.
  [ -x "$CHROMIUM_PATH" ] || fail "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file"
  echo "chromium at $CHROMIUM_PATH (CHROMIUM_PATH)"
  exit 0
fi
# Keep in step with the lookup in apps/metrics-gateway/suites/playwright.config.ts.
candidates=(/usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome)
for c in "${candidates[@]}"; do
  if [ -x "$c" ]; then echo "chromium at $c"; exit 0; fi
done
. "$(dirname "$0")/lib/apt-package.sh"
apt_install Chromium chromium
[ -x /usr/bin/chromium ] || fail "apt-get installed chromium but /usr/bin/chromium is missing"
echo "chromium at /usr/bin/chromium"
