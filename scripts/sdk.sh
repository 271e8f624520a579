#!/usr/bin/env bash
# A generated client against the live server (part of `make test`): openapi-python-client turns the
# committed openapi.yaml into a Python package, and scripts/sdk_scenario.py uses it as a
# third-party script would (register, sign in, make an API token, then with the token: list the
# sources, connect Demo by API key, wait for the sync, create a metric, read its series and check
# it against the JSON API). The generator and the client's libraries live in a venv outside the
# clone; the generated package, the database and the logs go to a temporary folder.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$REPO_ROOT"

ensure_rust
venv="$(ensure_python_tools "openapi-python-client==0.29.1")"
# The binary `cargo test` built: nothing to compile after it.
cargo build -q --bin allmetrics

local_server_workdir sdk

say "generating the Python client from openapi.yaml"
"$venv/bin/openapi-python-client" generate --path "$REPO_ROOT/openapi.yaml" --meta none \
  --output-path "$work/client/allmetrics_client" > "$work/generate.log" 2>&1 \
  || { cat "$work/generate.log" >&2; die "openapi-python-client could not generate a client"; }
# Two warnings are expected: the generator reads no YAML, so `GET /api/openapi.yaml` (the spec as
# YAML) has no parsed answer in Python, and sends no CSV, so `PUT /api/v1/admin/fx-rates` (an
# administrator's rates file, `text/csv`) is left out of the client. Any other warning is a flaw
# of the spec.
if grep "^WARNING" "$work/generate.log" \
  | grep -v "GET /api/openapi.yaml" | grep -qv "PUT /api/v1/admin/fx-rates"; then
  cat "$work/generate.log" >&2
  die "openapi-python-client warned about the spec (above)"
fi

start_local_server "$work" APP_SANDBOX__SIZE=200
say "the generated client's scenario"
if ! PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$work/client" \
  "$venv/bin/python" "$REPO_ROOT/scripts/sdk_scenario.py" "$base" sk_test_allmetrics_demo; then
  echo "--- server log (last 30 lines) ---" >&2
  tail -30 "$work/server.log" >&2
  die "the generated client's scenario failed"
fi
