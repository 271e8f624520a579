#!/usr/bin/env bash
# The browser end-to-end test (part of `make test`): builds the web app outside the clone, starts
# the server on a free port with a throwaway SQLite database and the built-in sandbox, and drives
# Chromium through e2e/run.mjs. Screenshots go to $E2E_ARTIFACTS (default: a temporary folder).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$REPO_ROOT"

ensure_rust
ensure_wasm_tools
ensure_chromium
playwright_home="$(ensure_playwright)"

work="$(mktemp -d "${TMPDIR:-/tmp}/allmetrics-e2e.XXXXXX")"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work/dist" "$work/data" "$work/static"
}
trap cleanup EXIT

build_frontend "$work/dist"
check_wasm_budget "$work/dist"
say "building the server"
cargo build -q

# The web app built above is what the server serves.
start_local_server "$work" APP_APPLICATION__STATIC_DIR="$work/dist" \
  APP_SANDBOX__SIZE="${E2E_SANDBOX_SIZE:-400}"

artifacts="${E2E_ARTIFACTS:-$work/artifacts}"
mkdir -p "$artifacts"
cp "$REPO_ROOT/e2e/run.mjs" "$playwright_home/run.mjs"
say "browser test (screenshots in $artifacts)"
if ! E2E_BASE_URL="$base" E2E_ARTIFACTS="$artifacts" node "$playwright_home/run.mjs"; then
  echo "--- server log ---" >&2
  tail -50 "$work/server.log" >&2
  die "the browser test failed (screenshots in $artifacts)"
fi
