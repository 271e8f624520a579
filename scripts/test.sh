#!/usr/bin/env bash
# The README's second command: every check and every test, on SQLite and on PostgreSQL.
# PostgreSQL comes from TEST_DATABASE_URL (default: the local server on 5432, started if down).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$REPO_ROOT"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
started=$SECONDS

ensure_postgres() {
  local host port
  host="$(sed -E 's#^[a-z]+://([^@/]*@)?([^:/?]+).*#\2#' <<<"$TEST_DATABASE_URL")"
  port="$(sed -nE 's#^[a-z]+://([^@/]*@)?[^:/?]+:([0-9]+).*#\2#p' <<<"$TEST_DATABASE_URL")"
  port="${port:-5432}"
  if pg_isready -q -h "$host" -p "$port" 2>/dev/null; then return; fi
  if [ "$host" = "127.0.0.1" ] || [ "$host" = "localhost" ]; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      say "starting the local PostgreSQL cluster"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
      for _ in $(seq 1 30); do pg_isready -q -h "$host" -p "$port" && return; sleep 1; done
    fi
  fi
  die "PostgreSQL is not reachable at $host:$port. Start it, or set TEST_DATABASE_URL to a server
       where this user may create databases (e.g. postgres://postgres@127.0.0.1:5432/test)."
}

ensure_rust
steps 8
step "cargo fmt --check" "seconds" cargo fmt --all -- --check
# The host crates (default members) and the web app are built apart: the web app's macros turn
# on features of shared dependencies that would make the server's build differ from `make run`'s.
step "clippy (host crates, all targets)" "1 min the first time, seconds after" \
  cargo clippy -q --all-targets -- -D warnings
step "clippy (the web app, wasm32)" "2.5 min the first time" \
  cargo clippy -q -p frontend -p frontend-logic -p allmetrics-common \
  --target wasm32-unknown-unknown -- -D warnings
ensure_postgres
step "tests: unit and integration, on SQLite and PostgreSQL ($TEST_DATABASE_URL)" \
  "9 min after make run (5 of them building)" cargo test -q
step "the API against its OpenAPI contract (schemathesis, live server)" "1.5 min after the tests" \
  "$REPO_ROOT/scripts/schemathesis.sh"
step "a client generated from openapi.yaml (Python), its scenario on a live server" "1 min" \
  "$REPO_ROOT/scripts/sdk.sh"
step "browser end-to-end test (and the web app's size budget)" "2 min after make run" \
  "$REPO_ROOT/scripts/e2e.sh"
step "reliability suite, short form (the full one: make soak)" "1.5 min" \
  "$REPO_ROOT/scripts/reliability.sh" --short
say "all checks passed in $(duration $((SECONDS - started)))"
