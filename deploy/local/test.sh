#!/usr/bin/env bash
# `deno task test`: runs every test (and every JSDoc example) against the real services.
# If QMTL_NEO4J_URL / QMTL_REDIS_URL are not both set, starts the local stack
# (deploy/local/stack.sh), runs the tests, and stops what it started.
# Extra arguments are passed to `deno test` (e.g. a path filter).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

started=0
if [[ -z "${QMTL_NEO4J_URL:-}" || -z "${QMTL_REDIS_URL:-}" ]]; then
  if bash "$HERE/stack.sh" status >/dev/null 2>&1; then
    echo "[test] reusing the running local stack" >&2
  else
    started=1
  fi
  env_lines="$(bash "$HERE/stack.sh" up)" || { echo "[test] the local stack failed to start" >&2; bash "$HERE/stack.sh" down || true; exit 1; }
  eval "$env_lines"
  if ((started)); then trap 'bash "$HERE/stack.sh" down' EXIT; fi
fi
export QMTL_NEO4J_URL QMTL_REDIS_URL

# Default: every test file under tests/ plus every JSDoc example of the
# library (doc tests), so the documented examples cannot rot.
args=("$@")
((${#args[@]})) || args=(--doc tests/ lib/ sdk/ mod.ts deploy/)
deno test --allow-all "${args[@]}"
