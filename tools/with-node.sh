#!/usr/bin/env bash
# Runs a command with a pinned Node.js first on PATH (installed by tools/install-node.sh when
# missing): every `node` the command starts — npm's scripts, Nx, Vitest, the apps the testbed
# spawns with process.execPath — is that release.
#   bash tools/with-node.sh 24 npm test
set -euo pipefail
major="${1:?usage: with-node.sh <major> <command…>}"
shift
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/tools/install-node.sh" "$major" >&2
export PATH="$root/.tools/node-$major/bin:$PATH"
echo "with-node: $(node --version) ($(command -v node))" >&2
exec "$@"
