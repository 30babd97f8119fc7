#!/usr/bin/env bash
# Makes toxiproxy-server available at .tools/bin/toxiproxy-server (git-ignored), pinned to
# one version. Order:
#   1. already there at the pinned version → nothing to do;
#   2. $TOXIPROXY_SERVER or a toxiproxy-server on PATH at the pinned version → symlinked;
#   3. Go present (PATH or /usr/local/go/bin) → `go install` of the Toxiproxy module, with
#      the version stamped in as the release build does (so step 1 recognises it next time);
#   4. otherwise (or if the build fails) → the release binary for this platform, checked
#      against the release's checksums.txt.
# Idempotent. Run by the cached `tools:install-toxiproxy` Nx target that every test and
# resilience target needing a toxiproxy-server depends on. TOXIPROXY_VERSION overrides the pin.
# Where it cannot install (no Go, no download), it stops naming what to do.
set -euo pipefail
VERSION="${TOXIPROXY_VERSION:-2.12.0}"
MODULE="github.com/Shopify/toxiproxy/v2"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin_dir="$root/.tools/bin"
target="$bin_dir/toxiproxy-server"
mkdir -p "$bin_dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

log() { echo "install-toxiproxy: $*" >&2; }
fail() {
  log "cannot install toxiproxy-server $VERSION: $1"
  log "fix: install Go (https://go.dev/dl/) and run \`bash tools/install-toxiproxy.sh\`, or download" \
    "https://github.com/Shopify/toxiproxy/releases/tag/v$VERSION and set TOXIPROXY_SERVER to its toxiproxy-server"
  exit 1
}
version_of() { "$1" -version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true; }
done_with() {
  local got
  got="$(version_of "$target")"
  if [ "$got" != "$VERSION" ]; then
    fail "$target reports version '${got:-none}'"
  fi
  echo "toxiproxy-server $got at $target"
  exit 0
}

if [ -x "$target" ] && [ "$(version_of "$target")" = "$VERSION" ]; then
  echo "toxiproxy-server $VERSION already at $target"
  exit 0
fi

for candidate in "${TOXIPROXY_SERVER:-}" "$(command -v toxiproxy-server || true)"; do
  [ -n "$candidate" ] && [ -x "$candidate" ] || continue
  [ "$(readlink -f "$candidate")" = "$(readlink -f "$target" 2>/dev/null || true)" ] && continue
  found="$(version_of "$candidate")"
  if [ "$found" = "$VERSION" ]; then
    ln -sfn "$(readlink -f "$candidate")" "$target"
    log "using $candidate"
    done_with
  fi
  log "ignoring $candidate: version '${found:-unknown}', pinned $VERSION"
done

why="no Go toolchain"
go_bin="$(command -v go || true)"
[ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
if [ -n "$go_bin" ]; then
  log "building toxiproxy-server $VERSION with $go_bin install"
  # CGO off gives a static binary like the release one; the -X flag stamps the version the
  # release build stamps (a plain `go install` reports "git").
  if CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-buildvcs=false "$go_bin" install \
    -ldflags "-s -w -X $MODULE.Version=$VERSION" "$MODULE/cmd/server@v$VERSION"; then
    rm -f "$target"
    mv "$tmp/server" "$target"
    done_with
  fi
  why="go install failed"
  log "$why; trying the release binary"
fi

os="$(uname -s | tr '[:upper:]' '[:lower:]')"
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  armv7l) arch=armv7 ;;
  armv6l) arch=armv6 ;;
  *) fail "$why, and no release binary for $(uname -m)" ;;
esac
asset="toxiproxy-server-$os-$arch"
base="https://github.com/Shopify/toxiproxy/releases/download/v$VERSION"
fetch() {
  if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 3 "$1" -o "$2"
  elif command -v wget >/dev/null 2>&1; then wget -q "$1" -O "$2"
  else fail "$why, and neither curl nor wget to download the release"
  fi
}
log "downloading $base/$asset"
fetch "$base/$asset" "$tmp/$asset" || fail "$why, and downloading $base/$asset failed"
fetch "$base/checksums.txt" "$tmp/checksums.txt" || fail "downloading $base/checksums.txt failed"
expected="$(awk -v a="$asset" '$2 == a { print $1 }' "$tmp/checksums.txt")"
actual="$(sha256sum "$tmp/$asset" | cut -d' ' -f1)"
if [ -z "$expected" ] || [ "$expected" != "$actual" ]; then
  fail "checksum mismatch for $asset (expected '${expected:-missing}', got $actual)"
fi
chmod +x "$tmp/$asset"
rm -f "$target"
mv "$tmp/$asset" "$target"
done_with
