#!/usr/bin/env bash
# Install the pinned Spectral CLI once (npm, into the gitignored .tools/) and print its path.
# Reuses LOKET_SPECTRAL_BIN or an earlier install when `spectral --version` shows the pin.
# Used by tests/contract/test_openapi_rules.py (the README's test command) and .ci/run.
set -euo pipefail
want="6.16.3"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${LOKET_TOOLS_DIR:-$root/.tools}/spectral"
for candidate in "${LOKET_SPECTRAL_BIN:-}" "$dir/node_modules/.bin/spectral"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && [ "$("$candidate" --version 2>/dev/null)" = "$want" ]; then
    echo "$candidate"
    exit 0
  fi
done
command -v npm >/dev/null || { echo "npm not found: install Node.js to lint the OpenAPI document" >&2; exit 3; }
echo "installing @stoplight/spectral-cli@$want into $dir (once)" >&2
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"name": "loket-tools", "private": true}' > "$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --save-exact --loglevel=error "@stoplight/spectral-cli@$want" >&2
bin="$dir/node_modules/.bin/spectral"
[ "$("$bin" --version)" = "$want" ] || { echo "installed spectral is not $want" >&2; exit 1; }
echo "$bin"
