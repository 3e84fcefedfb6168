#!/usr/bin/env bash
# Build the pinned OPA once and print its path (issue 4: "built from its Go module, pinned").
# Reuses LOKET_OPA_BIN, an `opa` on PATH or ~/go/bin/opa when `opa version` shows the pin.
set -euo pipefail
want="1.22.2"
for candidate in "${LOKET_OPA_BIN:-}" "$(command -v opa || true)" "$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin/opa" /root/go/bin/opa; do
  # Capture, then match: `opa version | grep -q` can die of SIGPIPE under pipefail.
  if [ -n "$candidate" ] && [ -x "$candidate" ] && [[ "$("$candidate" version 2>/dev/null)" == *"Version: $want"$'\n'* ]]; then
    echo "$candidate"
    exit 0
  fi
done
echo "building opa v$want with go install (once)" >&2
go install "github.com/open-policy-agent/opa@v$want" >&2
bin="$(go env GOPATH)/bin/opa"
[[ "$("$bin" version)" == *"Version: $want"$'\n'* ]] || { echo "built opa is not v$want" >&2; exit 1; }
echo "$bin"
