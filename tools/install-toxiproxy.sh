#!/usr/bin/env bash
# Makes toxiproxy-server available at .tools/bin/toxiproxy-server, pinned to one version.
# Order: $TOXIPROXY_SERVER or one on PATH (if it is the pinned version), else `go install`
# of the Toxiproxy module when Go is present, else the release binary for this platform.
set -euo pipefail
VERSION="${TOXIPROXY_VERSION:-2.12.0}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin_dir="$root/.tools/bin"
target="$bin_dir/toxiproxy-server"
mkdir -p "$bin_dir"

version_of() { "$1" -version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true; }

if [ -x "$target" ] && [ "$(version_of "$target")" = "$VERSION" ]; then
  echo "toxiproxy-server $VERSION already at $target"; exit 0
fi
for candidate in "${TOXIPROXY_SERVER:-}" "$(command -v toxiproxy-server || true)"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && [ "$(version_of "$candidate")" = "$VERSION" ]; then
    ln -sf "$candidate" "$target"; echo "using $candidate"; exit 0
  fi
done
if command -v go >/dev/null 2>&1; then
  echo "building toxiproxy-server $VERSION with go install"
  tmp="$(mktemp -d)"
  GOBIN="$tmp" GOFLAGS=-mod=mod go install "github.com/Shopify/toxiproxy/v2/cmd/server@v$VERSION"
  mv "$tmp/server" "$target"; rm -rf "$tmp"
else
  os="$(uname -s | tr '[:upper:]' '[:lower:]')"
  case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
  url="https://github.com/Shopify/toxiproxy/releases/download/v$VERSION/toxiproxy-server-$os-$arch"
  echo "downloading $url"
  curl -fsSL "$url" -o "$target"
  chmod +x "$target"
fi
echo "toxiproxy-server $(version_of "$target") at $target"
