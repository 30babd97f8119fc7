#!/usr/bin/env bash
# Makes a minimal OpenTelemetry Collector available at .tools/bin/crucible-otelcol (git-ignored)
# for the load engine's OTLP sink test (a real receiver of a run's metrics): the OTLP receiver
# (HTTP) → the contrib file exporter (JSON lines), built from tools/otelcol/ (main.go, go.mod,
# go.sum: every collector module at release v0.161.0 / v1.67.0, fetched from the Go module proxy).
# Order:
#   1. already there, stamped with this build's key → nothing to do;
#   2. Go present (PATH or /usr/local/go/bin) → `go build` of tools/otelcol, stamped with the key;
#   3. otherwise → stop, naming what to do.
# The key hashes this script, tools/otelcol/{main.go,go.mod,go.sum} and the platform, so a
# change to any of them (or another machine) rebuilds. The build is CPU-heavy (minutes on 2
# cores, from a cold Go cache). Run by the cached `tools:install-otelcol` Nx target that the load
# engine's test target depends on. OTELCOL_BIN names the binary for the test instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/tools/otelcol"
bin_dir="$root/.tools/bin"
target="$bin_dir/crucible-otelcol"
mkdir -p "$bin_dir"

log() { echo "install-otelcol: $*" >&2; }
fail() {
  log "cannot build the test collector: $1"
  log "fix: install Go 1.26+ (https://go.dev/dl/), make the Go module proxy reachable, and run \`bash tools/install-otelcol.sh\`"
  exit 1
}
key="$(cat "$0" "$src/main.go" "$src/go.mod" "$src/go.sum" <(uname -sm) | sha256sum | cut -c1-16)"
stamp="0.161.0+$key"
version_of() { "$1" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+\+[0-9a-f]+' | head -n1 || true; }

if [ -x "$target" ] && [ "$(version_of "$target")" = "$stamp" ]; then
  echo "crucible-otelcol $stamp already at $target"
  exit 0
fi

go_bin="$(command -v go || true)"
[ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
[ -n "$go_bin" ] || fail "no Go toolchain on PATH or at /usr/local/go/bin/go"

log "building crucible-otelcol $stamp with $go_bin build (minutes from a cold Go cache)"
started=$(date +%s)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# -mod=readonly: go.sum is committed, so the build fetches exactly those modules and no others.
if ! (cd "$src" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false "$go_bin" build -mod=readonly -trimpath \
  -ldflags "-s -w -X main.version=$stamp" -o "$tmp/crucible-otelcol" .); then
  fail "\`go build\` in tools/otelcol failed (see above)"
fi
rm -f "$target"
mv "$tmp/crucible-otelcol" "$target"
got="$(version_of "$target")"
[ "$got" = "$stamp" ] || fail "$target reports version '${got:-none}', expected $stamp"
echo "crucible-otelcol $got at $target (built in $(( $(date +%s) - started )) s)"
