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
  rm -rf "$work/dist" "$work/data"
}
trap cleanup EXIT

build_frontend "$work/dist"
check_wasm_budget "$work/dist"
say "building the server"
cargo build -q

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$work/data"
say "starting the server on http://127.0.0.1:$port"
env -u APP_DATABASE__URL \
  APP_ENVIRONMENT=local \
  APP_APPLICATION__HOST=127.0.0.1 \
  APP_APPLICATION__PORT="$port" \
  APP_APPLICATION__METRICS_PORT=0 \
  APP_APPLICATION__BASE_URL="http://127.0.0.1:$port" \
  APP_APPLICATION__DATA_DIR="$work/data" \
  APP_APPLICATION__STATIC_DIR="$work/dist" \
  APP_DATABASE__URL="sqlite://$work/data/e2e.db" \
  APP_SANDBOX__SIZE="${E2E_SANDBOX_SIZE:-400}" \
  APP_CONFIG_DIR="$REPO_ROOT/backend/configuration" \
  RUST_LOG=warn \
  "${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/allmetrics" serve > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "the server did not start"; }
  sleep 0.2
done

artifacts="${E2E_ARTIFACTS:-$work/artifacts}"
mkdir -p "$artifacts"
cp "$REPO_ROOT/e2e/run.mjs" "$playwright_home/run.mjs"
say "browser test (screenshots in $artifacts)"
if ! E2E_BASE_URL="http://127.0.0.1:$port" E2E_ARTIFACTS="$artifacts" node "$playwright_home/run.mjs"; then
  echo "--- server log ---" >&2
  tail -50 "$work/server.log" >&2
  die "the browser test failed (screenshots in $artifacts)"
fi
