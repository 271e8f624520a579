#!/usr/bin/env bash
# The README's first command: builds the web app and the server, then serves both on
# http://127.0.0.1:8000 with SQLite (data in ./data). Settings: .env and APP_* variables.
# The server is built in the workspace's dev profile (optimized dependencies, lightly optimized
# own crates): the one `make test` uses too, so neither rebuilds what the other built.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$REPO_ROOT"

target_dir="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
first_build=false
[ -x "$target_dir/debug/allmetrics" ] || first_build=true
if $first_build; then
  say "first build on this machine: about 9 minutes on 2 cores (later runs: what changed, seconds)"
fi

steps 2
build_tools() {
  ensure_rust
  ensure_wasm_tools
}
step "build tools: the wasm32 target, wasm-opt (npm)" "seconds; 30s the first time" build_tools

# The server and the web app compile at the same time (each build has moments when it keeps
# only one core busy); the web app is bundled once both are done.
build_server_and_web_app() {
  local web_log web
  web_log="$(mktemp "${TMPDIR:-/tmp}/allmetrics-web-build.XXXXXX")"
  build_frontend_wasm >"$web_log" 2>&1 &
  web=$!
  # The workspace's host crates in one build (the server, the sandbox, the web app's bundler):
  # one feature set, the one the tests build with too.
  if ! cargo build -q; then
    # The background job is a subshell: its cargo is stopped with it.
    pkill -P "$web" 2>/dev/null || true
    kill "$web" 2>/dev/null || true
    wait "$web" 2>/dev/null || true
    die "the server did not build (above)"
  fi
  if ! wait "$web"; then
    cat "$web_log" >&2
    die "the web app did not build (above)"
  fi
  rm -f "$web_log"
  bundle_frontend
}
step "building the server and the web app (wasm32, wasm-bindgen, wasm-opt)" \
  "9 min the first time, 10 s after a change" build_server_and_web_app

base_url="${APP_APPLICATION__BASE_URL:-http://${APP_APPLICATION__HOST:-127.0.0.1}:${APP_APPLICATION__PORT:-8000}}"
"$target_dir/debug/allmetrics" serve &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server"' INT TERM
for _ in $(seq 1 300); do
  if curl -fsS "$base_url/healthz" >/dev/null 2>&1; then
    say "allmetrics is ready at $base_url ($(duration $((SECONDS - STEPS_STARTED))) from the start)"
    cat >&2 <<EOF
    Open $base_url and register: on a new install the first account becomes admin.
    Data sources: "Demo" (a Stripe-like account, built in) is ready to connect with no set-up:
    Sources -> Demo -> Connect, then build a metric. API docs: $base_url/docs/
    Stop with Ctrl-C. Data is kept in ${APP_APPLICATION__DATA_DIR:-./data}.
EOF
    break
  fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.2
done
wait "$server"
