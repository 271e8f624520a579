#!/usr/bin/env bash
# The reliability suite: signed-in users under load on SQLite and on PostgreSQL while syncs run
# against a provider that answers 429 storms, 5xx and timeouts; PostgreSQL (a throwaway cluster of
# its own, on another port) restarted in the middle; the server killed with SIGKILL mid-sync and
# restarted; then the stored objects compared with the provider's.
#
#   scripts/reliability.sh           the full run (`make soak`): 50 users, 60 s per database
#   scripts/reliability.sh --short   the short form run by `make test`
#
# The full run builds the server, the sandbox and the load generator with the release profile (its
# latency limit is about the server as deployed); the short one reuses the debug builds of
# `make test`. RELIABILITY_PROFILE=debug|release overrides either.
#
# Knobs (environment): RELIABILITY_PROFILE, RELIABILITY_USERS, RELIABILITY_SECONDS, RELIABILITY_SIZE (the provider's
# customers), RELIABILITY_THINK_MS (each user's pause between actions, on average),
# RELIABILITY_P99_MS (limit of the dashboard series' p99; 0 = not checked), RELIABILITY_DATABASES
# ("sqlite postgres"), RELIABILITY_LOG (a file the figures are also written to). Nothing is written into the clone: everything lives in a temporary folder.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$REPO_ROOT"

mode=full
[ "${1:-}" = "--short" ] && mode=short
if [ "$mode" = short ]; then
  users="${RELIABILITY_USERS:-20}"; seconds="${RELIABILITY_SECONDS:-15}"
  size="${RELIABILITY_SIZE:-40}"; outage_at=4; outage_secs=6
  # Latency limits are the full run's: the short one checks errors, the outage, memory and
  # the stored objects.
  p99_limit="${RELIABILITY_P99_MS:-0}"
  profile="${RELIABILITY_PROFILE:-debug}"
else
  users="${RELIABILITY_USERS:-50}"; seconds="${RELIABILITY_SECONDS:-60}"
  size="${RELIABILITY_SIZE:-100}"; outage_at=25; outage_secs=5
  p99_limit="${RELIABILITY_P99_MS:-100}"
  profile="${RELIABILITY_PROFILE:-release}"
fi
databases="${RELIABILITY_DATABASES:-sqlite postgres}"
api_key="sk_test_reliability"

ensure_rust
say "building the server, the provider sandbox and the load generator ($profile)"
# All host crates at once: the feature set `make run` and the tests build with, so nothing is
# compiled again.
case "$profile" in
  release) cargo build -q --release ;;
  debug) cargo build -q ;;
  *) die "RELIABILITY_PROFILE is debug or release, not $profile" ;;
esac
bin="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/$profile"
loadtest="$bin/allmetrics-loadtest"

work="$(mktemp -d "${TMPDIR:-/tmp}/allmetrics-reliability.XXXXXX")"
chmod 755 "$work"
log="${RELIABILITY_LOG:-$work/figures.txt}"
: > "$log"
sandbox_pid=""
server_pid=""
pg_data=""
keep_logs=0
as_postgres=()
if [ "$(id -u)" = 0 ]; then as_postgres=(runuser -u postgres --); fi

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
  if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
    "${as_postgres[@]}" "$(pg_bin)/pg_ctl" -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work/pg" "$work"/data-*
  [ "$keep_logs" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
figures() { tee -a "$log"; }

# The provider: Stripe's API with faults (5% of requests answer 500, a burst of eight 429s every
# 50 requests, 1% hang for 3 s, past the server's 2 s timeout).
sandbox_port="$("$loadtest" free-port)"
"$bin/allmetrics-sandbox" --port "$sandbox_port" --seed 7 --size "$size" --api-key "$api_key" \
  --latency-ms 10 --error-rate 0.05 --burst-every 50 --burst-len 8 \
  --timeout-rate 0.01 --timeout-ms 3000 > "$work/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 100); do
  curl -fsS -H "Authorization: Bearer $api_key" "http://127.0.0.1:$sandbox_port/v1/account" >/dev/null 2>&1 && break
  sleep 0.1
done

start_server() { # database url, log name
  local port
  port="$("$loadtest" free-port)"
  mkdir -p "$work/data-$2" "$work/static"
  echo '<!doctype html><title>allmetrics</title>' > "$work/static/index.html"
  (cd "$work" && exec env -u APP_DATABASE__URL \
    APP_ENVIRONMENT=local \
    APP_APPLICATION__HOST=127.0.0.1 \
    APP_APPLICATION__PORT="$port" \
    APP_APPLICATION__DATA_DIR="$work/data-$2" \
    APP_APPLICATION__STATIC_DIR="$work/static" \
    APP_CONFIG_DIR="$work/no-configuration" \
    APP_DATABASE__URL="$1" \
    APP_AUTH__JWT_SECRET="reliability-secret-reliability-secret-0123456789" \
    APP_SECURITY__TOKEN_KEYS="1:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=" \
    APP_AUTH__ATTEMPTS_PER_MINUTE_PER_IP=1000000 \
    APP_AUTH__ATTEMPTS_PER_MINUTE_PER_EMAIL=1000000 \
    APP_PROVIDERS__STRIPE__API_BASE="http://127.0.0.1:$sandbox_port" \
    APP_PROVIDERS__STRIPE__CLIENT_ID=ca_reliability \
    APP_PROVIDERS__STRIPE__CLIENT_SECRET=sk_test_platform \
    APP_HTTP__TIMEOUT_SECS=2 \
    APP_SYNC__LEASE_SECS=15 \
    APP_SYNC__INTERVAL_SECS=20 \
    APP_SYNC__POLL_INTERVAL_SECS=1 \
    APP_SYNC__RETRY_CAP_MS=2000 \
    APP_APPLICATION__METRICS_PORT=0 \
    RUST_LOG="${RUST_LOG:-warn}" \
    "$bin/allmetrics" serve >> "$work/server-$2.log" 2>&1) &
  server_pid=$!
  server_url="http://127.0.0.1:$port"
  for _ in $(seq 1 150); do
    curl -fsS "$server_url/readyz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { tail -30 "$work/server-$2.log" >&2; die "the server did not start"; }
    sleep 0.2
  done
}

start_postgres() {
  local bin_dir
  bin_dir="$(pg_bin)"
  [ -n "$bin_dir" ] || die "no PostgreSQL binaries in /usr/lib/postgresql/*/bin"
  pg_port="$("$loadtest" free-port)"
  pg_data="$work/pg/data"
  install -d -m 700 "$work/pg"
  mkdir -p "$pg_data"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$work/pg"
  (cd / && "${as_postgres[@]}" "$bin_dir/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 >/dev/null)
  cat > "$work/pg-start" <<EOF
#!/bin/sh
cd /
exec ${as_postgres[*]} "$bin_dir/pg_ctl" -D "$pg_data" -l "$work/pg/server.log" -w \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work/pg -c fsync=off" start >/dev/null
EOF
  cat > "$work/pg-stop" <<EOF
#!/bin/sh
cd /
exec ${as_postgres[*]} "$bin_dir/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null
EOF
  chmod +x "$work/pg-start" "$work/pg-stop"
  "$work/pg-start"
  (cd / && "${as_postgres[@]}" "$bin_dir/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres allmetrics)
  database_url="postgres://postgres@127.0.0.1:$pg_port/allmetrics"
}

failed=()
for db in $databases; do
  say "$db: $users users for ${seconds}s while syncs run (provider on :$sandbox_port)"
  outage=()
  if [ "$db" = postgres ]; then
    start_postgres
    outage=(--outage-at-secs "$outage_at" --outage-secs "$outage_secs"
            --outage-stop "$work/pg-stop" --outage-start "$work/pg-start")
  else
    database_url="sqlite://$work/data-sqlite/allmetrics.db"
  fi
  start_server "$database_url" "$db"
  echo "== $db ($mode, $profile build: $users users, ${seconds}s, provider size $size)" | figures
  if ! "$loadtest" load --base "$server_url" --users "$users" --duration-secs "$seconds" \
      --think-ms "${RELIABILITY_THINK_MS:-1000}" --max-dashboard-p99-ms "$p99_limit" \
      --api-key "$api_key" --server-pid "$server_pid" "${outage[@]}" 2>&1 | figures; then
    failed+=("$db: load")
  fi

  say "$db: SIGKILL in the middle of a backfill, then a restart"
  "$loadtest" connect --base "$server_url" --email "killed@load.test" --api-key "$api_key" | figures
  if "$loadtest" wait-syncing --database-url "$database_url" --email "killed@load.test" \
      --min-objects 50 2>&1 | figures; then
    kill -KILL "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    echo "server killed with SIGKILL mid-sync; restarting" | figures
  else
    failed+=("$db: could not catch a backfill in progress")
  fi
  start_server "$database_url" "$db"
  if ! "$loadtest" verify --database-url "$database_url" --sandbox "http://127.0.0.1:$sandbox_port" \
      --api-key "$api_key" 2>&1 | figures; then
    failed+=("$db: stored objects")
  fi
  if grep -q "panicked" "$work/server-$db.log"; then
    grep -m5 "panicked" "$work/server-$db.log" | figures
    failed+=("$db: the server panicked")
  fi
  kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  server_pid=""
  if [ "$db" = postgres ]; then
    "$work/pg-stop" || true
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  printf '  failed: %s\n' "${failed[@]}" >&2
  echo "server logs: $work/server-*.log" >&2
  keep_logs=1
  die "the reliability suite failed (logs kept in $work)"
fi
say "reliability suite passed ($mode)"
