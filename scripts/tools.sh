#!/usr/bin/env bash
# Installs, when missing, what building the web app needs, at versions known to work here:
# the wasm32 target, trunk, wasm-bindgen-cli (= the version in Cargo.lock), wasm-opt (npm binaryen).
# Tools are cached outside the clone and reused. Source this file; it puts them on PATH.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_ROOT="${ALLMETRICS_TOOLS:-$HOME/.cache/allmetrics-tools}"
TRUNK_VERSION="0.21.14"
BINARYEN_VERSION="132"
export PATH="$TOOLS_ROOT/bin:$TOOLS_ROOT/npm/node_modules/.bin:$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' \
    "$REPO_ROOT/Cargo.lock"
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

ensure_wasm_tools() {
  mkdir -p "$TOOLS_ROOT"
  if ! trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then
    say "installing trunk $TRUNK_VERSION (once; a few minutes)"
    # Newer trunk releases need a newer rustc than this project pins.
    cargo install trunk --locked --version "$TRUNK_VERSION" --root "$TOOLS_ROOT"
  fi
  local bindgen
  bindgen="$(wasm_bindgen_version)"
  [ -n "$bindgen" ] || die "no wasm-bindgen in Cargo.lock"
  grep -q "wasm_bindgen = \"$bindgen\"" "$REPO_ROOT/frontend/Trunk.toml" \
    || die "frontend/Trunk.toml must name wasm_bindgen = \"$bindgen\" (the version in Cargo.lock)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $bindgen"; then
    say "installing wasm-bindgen-cli $bindgen (once)"
    # Not --locked: its lock file pins a yanked dependency that no longer resolves.
    cargo install wasm-bindgen-cli --version "$bindgen" --root "$TOOLS_ROOT" --force
  fi
  if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
    command -v npm >/dev/null || die "npm is missing: install Node.js (apt-get install nodejs npm)"
    say "installing wasm-opt (npm binaryen@$BINARYEN_VERSION)"
    mkdir -p "$TOOLS_ROOT/npm"
    (cd "$TOOLS_ROOT/npm" && npm install --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION")
  fi
}

build_frontend() {
  say "building the web app (trunk, release)"
  (cd "$REPO_ROOT/frontend" && trunk build --release --dist "${1:-$REPO_ROOT/frontend/dist}")
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
