#!/usr/bin/env bash
# Makes a system Chromium available for Playwright (never a browser download).
# Prints the path; CHROMIUM_PATH overrides it.
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then echo "$CHROMIUM_PATH"; exit 0; fi
for c in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do
  if [ -x "$c" ]; then echo "chromium at $c"; exit 0; fi
done
if command -v apt-get >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  echo "chromium at /usr/bin/chromium"
else
  echo "no Chromium found and no apt-get: install Chromium and set CHROMIUM_PATH" >&2
  exit 1
fi
