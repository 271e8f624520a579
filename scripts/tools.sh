#!/usr/bin/env bash
# Installs, when missing, what building the web app needs, at versions known to work here: the
# wasm32 target and wasm-opt (npm binaryen). No bundler and nothing compiled from source but the
# workspace: `build_frontend` is cargo, the workspace's `webbuild` (wasm-bindgen's library),
# wasm-opt and content hashes. Tools are cached outside the clone and reused. Source this file;
# it puts them on PATH.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_ROOT="${ALLMETRICS_TOOLS:-$HOME/.cache/allmetrics-tools}"
BINARYEN_VERSION="132"
# Gzipped size the web app's wasm must stay within (`make test` checks it).
WASM_GZIP_BUDGET_KB=300
export PATH="$TOOLS_ROOT/bin:$TOOLS_ROOT/npm/node_modules/.bin:$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

duration() {
  local seconds=$1
  if ((seconds >= 60)); then
    printf '%dm%02ds' $((seconds / 60)) $((seconds % 60))
  else
    printf '%ds' "$seconds"
  fi
}

# Numbered, timed steps: `steps N` once, then `step "what" "usual time" command...` for each.
# The usual time is what the step takes on a 2-core machine, so that a long one is expected.
STEP=0
STEPS=0
STEPS_STARTED=$SECONDS
steps() {
  STEPS=$1
  STEP=0
  STEPS_STARTED=$SECONDS
}
step() {
  local what=$1 usual=$2 started=$SECONDS
  shift 2
  STEP=$((STEP + 1))
  say "[$STEP/$STEPS] $what (usually $usual)"
  "$@"
  printf '    done in %s (%s since the start)\n' "$(duration $((SECONDS - started)))" \
    "$(duration $((SECONDS - STEPS_STARTED)))" >&2
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup (https://rustup.rs)"
  # rust-toolchain.toml names the toolchain, its components and the wasm32 target; rustup
  # installs whatever of it is missing on first use.
  (cd "$REPO_ROOT" && rustup show active-toolchain >/dev/null 2>&1) || true
  if ! (cd "$REPO_ROOT" && rustup target list --installed | grep -q wasm32-unknown-unknown); then
    say "adding the wasm32-unknown-unknown target"
    (cd "$REPO_ROOT" && rustup target add wasm32-unknown-unknown)
  fi
}

# wasm-opt, from npm's prebuilt binaryen (Debian's binaryen 108 breaks the wasm). wasm-bindgen
# needs no tool: the workspace's `webbuild` runs its library.
ensure_wasm_tools() {
  if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
    command -v npm >/dev/null || die "npm is missing: install Node.js (apt-get install nodejs npm)"
    say "installing wasm-opt (npm binaryen@$BINARYEN_VERSION, prebuilt, once)"
    mkdir -p "$TOOLS_ROOT/npm"
    (cd "$TOOLS_ROOT/npm" && npm install --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION")
  fi
}

# The first 16 hex digits of a file's SHA-256: its name changes when, and only when, it does.
content_hash() {
  sha256sum "$1" | cut -c1-16
}

# The web app's wasm32 build (profile `wasm-release`). It has a target folder of its own
# (target/web) so that it can compile while the server does: cargo runs one build at a time per
# folder, and the two share no compiled unit anyway (other target, other profile).
web_target_dir() {
  echo "${CARGO_TARGET_DIR:-$REPO_ROOT/target}/web"
}
build_frontend_wasm() {
  CARGO_TARGET_DIR="$(web_target_dir)" \
    cargo build -q -p frontend --target wasm32-unknown-unknown --profile wasm-release
}

# The web app in DIST (default frontend/dist): the wasm32 build, wasm-bindgen's JS glue
# (`webbuild`), wasm-opt, then every asset renamed after its content and `index.html` pointed at
# those names, so that browsers may keep the assets for a year.
build_frontend() {
  build_frontend_wasm
  bundle_frontend "$@"
}

# The bundling half of `build_frontend`, once the wasm32 build is done.
bundle_frontend() {
  local dist="${1:-$REPO_ROOT/frontend/dist}"
  local target_dir="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
  local work
  work="$(mktemp -d "${TMPDIR:-/tmp}/allmetrics-web.XXXXXX")"
  # `--bin`, not `-p`: built with the workspace's host crates' features, it reuses their build.
  cargo build -q --bin webbuild
  "$target_dir/debug/webbuild" "$(web_target_dir)/wasm32-unknown-unknown/wasm-release/frontend.wasm" "$work"
  # The features rustc enables by default for wasm32; browsers have had them for years.
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$work/frontend_bg.wasm" -o "$work/frontend_bg.opt.wasm"
  local js wasm css
  js="frontend-$(content_hash "$work/frontend.js").js"
  wasm="frontend-$(content_hash "$work/frontend_bg.opt.wasm")_bg.wasm"
  css="style-$(content_hash "$REPO_ROOT/frontend/style.css").css"
  mkdir -p "$dist"
  rm -rf "$dist"/frontend-*.js "$dist"/frontend-*_bg.wasm "$dist"/style-*.css "$dist/snippets"
  # JS the app declares inline (`inline_js`), imported by the glue from ./snippets/.
  [ ! -d "$work/snippets" ] || cp -r "$work/snippets" "$dist/snippets"
  cp "$work/frontend.js" "$dist/$js"
  cp "$work/frontend_bg.opt.wasm" "$dist/$wasm"
  cp "$REPO_ROOT/frontend/style.css" "$dist/$css"
  sed -e "s#\"/frontend\.js\"#\"/$js\"#g" -e "s#\"/frontend_bg\.wasm\"#\"/$wasm\"#g" \
    -e "s#\"/style\.css\"#\"/$css\"#g" "$REPO_ROOT/frontend/index.html" > "$work/index.html"
  grep -q "/$wasm" "$work/index.html" || die "frontend/index.html does not load /frontend_bg.wasm"
  mv "$work/index.html" "$dist/index.html"
  rm -rf "$work"
  echo "    $(wasm_gzip_kb "$dist") KB of gzipped wasm (budget $WASM_GZIP_BUDGET_KB KB)" >&2
}

wasm_gzip_kb() {
  local wasm
  wasm="$(ls "$1"/frontend-*_bg.wasm)"
  echo $(( ($(gzip -9 -c "$wasm" | wc -c) + 1023) / 1024 ))
}

# Fails when the built web app's wasm outgrows its budget: every kilobyte is downloaded by every
# new visitor before the first chart.
check_wasm_budget() {
  local size
  size="$(wasm_gzip_kb "$1")"
  ((size <= WASM_GZIP_BUDGET_KB)) \
    || die "the web app's wasm is $size KB gzipped, over its budget of $WASM_GZIP_BUDGET_KB KB"
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return; fi
  command -v apt-get >/dev/null || die "Chromium is missing: install Debian's chromium package"
  say "installing Chromium (Debian's package, for the browser test)"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null
}

# playwright-core for e2e/run.mjs, installed outside the clone and reused while the lock file
# stays the same. Prints the folder to run the test from.
ensure_playwright() {
  command -v npm >/dev/null || die "npm is missing: install Node.js (apt-get install nodejs npm)"
  local hash home
  hash="$(sha256sum "$REPO_ROOT/e2e/package-lock.json" | cut -c1-16)"
  home="$TOOLS_ROOT/e2e-$hash"
  if [ ! -d "$home/node_modules/playwright-core" ]; then
    say "installing playwright-core (npm, once)"
    mkdir -p "$home"
    cp "$REPO_ROOT/e2e/package.json" "$REPO_ROOT/e2e/package-lock.json" "$home/"
    (cd "$home" && npm ci --no-audit --no-fund --silent >&2)
  fi
  echo "$home"
}

# A temporary folder (`work`) for a run with a local server: on exit the server is stopped and
# the folder removed.
local_server_workdir() {
  work="$(mktemp -d "${TMPDIR:-/tmp}/allmetrics-$1.XXXXXX")"
  server_pid=""
  trap 'stop_local_server; rm -rf "$work"' EXIT
}

stop_local_server() {
  if [ -n "${server_pid:-}" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}

# Starts the debug server in the background for a script's checks: `local` (the built-in
# sandbox), a free port, a throwaway SQLite database and data folder under WORK. Extra `NAME=value`
# settings may follow. Sets `base` (its URL) and `server_pid`; the log is WORK/server.log.
start_local_server() {
  local work=$1
  shift
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  base="http://127.0.0.1:$port"
  mkdir -p "$work/data" "$work/static"
  say "starting the server on $base (SQLite in $work)"
  env -u APP_DATABASE__URL \
    APP_ENVIRONMENT=local \
    APP_APPLICATION__HOST=127.0.0.1 \
    APP_APPLICATION__PORT="$port" \
    APP_APPLICATION__METRICS_PORT=0 \
    APP_APPLICATION__BASE_URL="$base" \
    APP_APPLICATION__DATA_DIR="$work/data" \
    APP_APPLICATION__STATIC_DIR="$work/static" \
    APP_DATABASE__URL="sqlite://$work/data/allmetrics.db" \
    APP_CONFIG_DIR="$REPO_ROOT/backend/configuration" \
    RUST_LOG=warn \
    "$@" \
    "${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/allmetrics" serve > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && return
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "the server did not start"; }
    sleep 0.2
  done
  die "the server did not answer /healthz in 20 s"
}

# A venv outside the clone with these PyPI packages (pinned), made or completed once.
ensure_python_tools() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/allmetrics/venv" package missing=()
  for package in "$@"; do
    [ -x "$venv/bin/python" ] && "$venv/bin/python" - "$package" 2>/dev/null <<'PY' && continue
import importlib.metadata, sys
name, version = sys.argv[1].split("==")
sys.exit(0 if importlib.metadata.version(name) == version else 1)
PY
    missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    command -v python3 >/dev/null || die "python3 is missing: install Debian's python3 and python3-venv"
    say "installing ${missing[*]} (PyPI, into $venv, once)"
    mkdir -p "$(dirname "$venv")"
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" \
      || die "python3 -m venv failed: install Debian's python3-venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "${missing[@]}" >&2
  fi
  echo "$venv"
}
