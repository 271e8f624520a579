#!/usr/bin/env bash
# The README's first command: builds the web app and the server, then serves both on
# http://127.0.0.1:8000 with SQLite (data in ./data). Settings: .env and APP_* variables.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$REPO_ROOT"

ensure_rust
ensure_wasm_tools
build_frontend
say "building the server (release)"
cargo build --release -p allmetrics
say "serving on ${APP_APPLICATION__BASE_URL:-http://${APP_APPLICATION__HOST:-127.0.0.1}:${APP_APPLICATION__PORT:-8000}}"
exec ./target/release/allmetrics serve
