#!/usr/bin/env bash
# The API against its own contract: Schemathesis generates requests from the served OpenAPI
# document (valid and invalid ones, every operation) and checks every answer against it (status
# documented, body and headers as documented, invalid input refused, auth enforced, 405 with
# `Allow` for other methods...). Part of `make test`.
#
# The server is the debug build `cargo test` made, on a free port, with a throwaway SQLite
# database and the built-in sandbox (`local`). The first account (an admin) is signed up and
# connects the demo source with the sandbox's API key; Schemathesis then calls as that admin.
# Passes when there is no failure, at least ST_MIN_REQUESTS requests were made, and every
# operation an admin can reach answered 2xx at least once.
#
# Knobs: ST_MAX_EXAMPLES (cases per operation and phase), ST_MIN_REQUESTS, ST_SEED, ST_WORKERS.
# Schemathesis lives in a venv outside the clone (${XDG_CACHE_HOME:-~/.cache}/allmetrics); nothing
# is written into the clone: the database, the logs and the reports go to a temporary folder.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$REPO_ROOT"

SCHEMATHESIS_VERSION="4.32.5"
max_examples="${ST_MAX_EXAMPLES:-25}"
min_requests="${ST_MIN_REQUESTS:-1000}"
seed="${ST_SEED:-20261201}"
# One worker: the examples run in the document's order (a path's DELETE before the paths under
# it), so that each documented example meets what it names.
workers="${ST_WORKERS:-1}"

ensure_rust
venv="$(ensure_python_tools "schemathesis==$SCHEMATHESIS_VERSION")"
# The binary `cargo test` built (same profile, same features): nothing to compile after it.
cargo build -q --bin allmetrics

local_server_workdir schemathesis

# The run's credential makes thousands of requests a minute, and it connects the demo source
# again whenever the run disconnects it: the limits are raised.
start_local_server "$work" APP_SANDBOX__SIZE=50 APP_AUTH__API_TOKEN_REQUESTS_PER_MINUTE=1000000 \
  APP_AUTH__KEY_CHECKS_PER_MINUTE=1000000

# The admin: the first account of a `local` server. Its email and password are the spec's
# examples of `Credentials`, so that the documented example of sign-in works as documented.
admin_email="ann@example.com"
admin_password="correct horse battery staple"
json() { "$venv/bin/python" -c "import json, sys; print(json.load(sys.stdin)$1)"; }
curl -fsS -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" >/dev/null \
  || die "could not sign up the first account"

# The credential Schemathesis sends with every request: a personal API token of the admin, with
# the `write` scope, made by a password session (no token can make tokens; logout, which the run
# calls, does not end a token). Its id is kept from being revoked by the run's own
# `DELETE /api/v1/admin/tokens/{id}` (see the hooks).
obtain_credential() {
  local session
  session="$(curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" | json '["access_token"]')"
  # Token 1, the spec's example of revoking one: the run revokes it.
  curl -fsS -X POST "$base/api/v1/tokens" -H "authorization: Bearer $session" \
    -H 'content-type: application/json' -d '{"name":"revoked by the run","scope":"read"}' \
    >/dev/null
  curl -fsS -X POST "$base/api/v1/tokens" -H "authorization: Bearer $session" \
    -H 'content-type: application/json' -d '{"name":"schemathesis","scope":"write"}' \
    > "$work/token.json"
  json '["token"]' < "$work/token.json"
}
credential="$(obtain_credential)" || die "could not make an API token"
credential_id="$(json '["api_token"]["id"]' < "$work/token.json")"

# Something to read: the demo source connected with the sandbox's API key.
curl -fsS -X POST "$base/api/v1/connections/demo/key" -H "authorization: Bearer $credential" \
  -H 'content-type: application/json' -d '{"api_key":"sk_test_allmetrics_demo"}' >/dev/null \
  || die "could not connect the demo source"

# What the spec's examples name: metrics 1, 2 (the example of deleting one) and 3 (of changing
# one), the home dashboard (1) and another (2).
api() {
  local method=$1 path=$2 body=${3:-}
  curl -fsS -X "$method" "$base$path" -H "authorization: Bearer $credential" \
    ${body:+-H 'content-type: application/json' -d "$body"} >/dev/null \
    || die "$method $path failed"
}
for name in "Charges by currency" "Customers" "Charges"; do
  api POST /api/v1/metrics "{\"name\":\"$name\",\"source\":\"demo\",\"object_name\":\"Charge\",\"operator\":\"count\",\"field_name\":\"currency\"}"
done
api GET /api/v1/dashboards
api POST /api/v1/dashboards '{"name":"Revenue","metric_ids":[1,2]}'

cp "$REPO_ROOT/scripts/schemathesis_hooks.py" "$work/allmetrics_st_hooks.py"
calls="$work/calls.txt"
: > "$calls"
say "schemathesis $SCHEMATHESIS_VERSION: every operation, every check but positive_data_acceptance"
status=0
(
  cd "$work"
  PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$work" SCHEMATHESIS_HOOKS=allmetrics_st_hooks \
    ALLMETRICS_ST_CALLS="$calls" ALLMETRICS_ST_CREDENTIAL_ID="$credential_id" \
    ALLMETRICS_ST_CREDENTIAL="$credential" ALLMETRICS_ST_BASE="$base" \
    "$venv/bin/st" --no-color run "$base/api/openapi.json" --url "$base" \
    --header "Authorization: Bearer $credential" \
    --checks all --exclude-checks positive_data_acceptance \
    --max-examples "$max_examples" --seed "$seed" --workers "$workers" \
    --max-redirects 0 --request-timeout 20 \
    --report junit --report-junit-path "$work/junit.xml"
) || status=$?

curl -fsS "$base/api/openapi.json" > "$work/openapi.json"
"$venv/bin/python" - "$calls" "$work/junit.xml" "$min_requests" "$work/openapi.json" <<'EOF' || status=1
import json
import sys
import xml.etree.ElementTree as ElementTree
from collections import defaultdict

calls_path, junit_path, min_requests, spec_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
# What an admin cannot make answer 2xx in such a run: the OAuth callback needs the `state` of a
# consent given at the provider, the webhooks a signature made with a provider's secret, and the
# accounts of a report source (GA4 properties, ad accounts) a connection through OAuth.
UNREACHABLE = {
    "GET /connect/oauth/callback/{slug}",
    "POST /webhooks/stripe",
    "POST /webhooks/stripe/{webhook_id}",
    "GET /api/v1/connections/{slug}/accounts",
    "PUT /api/v1/connections/{slug}/account",
}
# What the run's credential, an API token, may not do by design: manage tokens (403
# `session_required`; the integration tests cover these routes with a session).
UNREACHABLE |= {
    "GET /api/v1/tokens",
    "POST /api/v1/tokens",
    "DELETE /api/v1/tokens/{id}",
}
statuses = defaultdict(list)
with open(calls_path, encoding="utf-8") as calls:
    for line in calls:
        method, path, status = line.split()
        statuses[f"{method} {path}"].append(int(status))
total = sum(len(answers) for answers in statuses.values())
suite = ElementTree.parse(junit_path).getroot()
failures = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suite.iter("testsuite"))
print(f"    {total} requests to {len(statuses)} operations, {failures} failing operations")
problems = []
if failures:
    problems.append(f"{failures} operations failed (above)")
if total < min_requests:
    problems.append(f"only {total} requests (at least {min_requests} expected)")
with open(spec_path, encoding="utf-8") as document:
    spec = json.load(document)
operations = sorted(f"{method.upper()} {path}" for path, item in spec["paths"].items()
                    for method in item if method in ("get", "put", "post", "delete", "patch"))
# Schemathesis reads the document from GET /api/openapi.json and leaves that operation out.
uncalled = [op for op in operations if op not in statuses and op != "GET /api/openapi.json"]
if uncalled:
    problems.append("never called: " + ", ".join(uncalled))
def succeeded(op, answers):
    method, path = op.split(" ", 1)
    documented = spec["paths"][path][method.lower()]["responses"]
    # A redirect is the success of the browser's connect flow.
    return any(200 <= s < 300 or (300 <= s < 400 and str(s) in documented) for s in answers)
never = sorted(op for op in operations if op in statuses and op not in UNREACHABLE
               and not succeeded(op, statuses[op]))
if never:
    problems.append("never answered 2xx: " + ", ".join(
        f"{op} ({sorted(set(statuses[op]))})" for op in never))
for problem in problems:
    print(f"    {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF

if [ "$status" != 0 ]; then
  echo "--- server log (last 30 lines) ---" >&2
  tail -30 "$work/server.log" >&2
  die "schemathesis found problems (above)"
fi
