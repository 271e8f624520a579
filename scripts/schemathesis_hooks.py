"""Schemathesis hooks of scripts/schemathesis.sh: every call is recorded (operation and status)
in the file named by ALLMETRICS_ST_CALLS, so that the script can count the requests and check
that every operation an admin can reach answered 2xx at least once; and what the run reads (the
API token it authenticates with, ALLMETRICS_ST_CREDENTIAL_ID, the demo source, metric 1) is kept
from its own deletions, or made again right after (the demo connection)."""

import json
import os
import threading
import urllib.error
import urllib.request

import schemathesis

_lock = threading.Lock()
_path = os.environ["ALLMETRICS_ST_CALLS"]
_credential_id = os.environ.get("ALLMETRICS_ST_CREDENTIAL_ID", "")
_credential = os.environ.get("ALLMETRICS_ST_CREDENTIAL", "")
_base = os.environ.get("ALLMETRICS_ST_BASE", "")


# Where the run would destroy what the rest of it reads (its own credential, the demo source it
# charts, the metric the spec's examples name), it acts on something that does not exist instead
# (a 404: the refusal is checked all the same). Schemathesis reuses one operation's examples in
# another's, so a `DELETE` can meet the slug `demo` or the id of the run's token.
_KEPT = {
    ("DELETE", "/api/v1/admin/tokens/{id}", "id"): lambda: {_credential_id},
    # Metric 1 is charted (its series), metric 3 changed (the spec's example of a PATCH).
    ("DELETE", "/api/v1/metrics/{id}", "id"): lambda: {"1", "3"},
    ("PATCH", "/api/v1/metrics/{id}", "id"): lambda: {"1"},
    ("DELETE", "/api/v1/admin/sources/{slug}", "slug"): lambda: {"demo", "demo-ads"},
    ("PATCH", "/api/v1/admin/sources/{slug}", "slug"): lambda: {"demo"},
    ("PATCH", "/api/v1/admin/sources/{slug}/objects/{object_name}", "object_name"): lambda: {
        "Charge"
    },
    ("DELETE", "/api/v1/admin/sources/{slug}/objects/{object_name}", "object_name"): lambda: {
        "Charge"
    },
}


@schemathesis.hook
def before_call(context, case, **kwargs):
    operation = (case.operation.method.upper(), case.operation.path)
    for (method, path, name), kept in _KEPT.items():
        if (method, path) != operation or not case.path_parameters:
            continue
        value = case.path_parameters.get(name)
        if str(value) in kept():
            case.path_parameters[name] = (
                int(value) + 1_000_000 if isinstance(value, int) else f"{value}-kept"
            )


def _reconnect_demo():
    """The series and the ad hoc queries read the demo connection: when the run disconnects it
    (as it should be able to), it is connected again at once."""
    request = urllib.request.Request(
        f"{_base}/api/v1/connections/demo/key",
        data=json.dumps({"api_key": "sk_test_allmetrics_demo"}).encode(),
        headers={"authorization": f"Bearer {_credential}", "content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            answer.read()
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"reconnecting demo: {error.code} {error.read()[:300]!r}") from error


@schemathesis.hook
def after_call(context, case, response):
    line = f"{case.operation.method.upper()} {case.operation.path} {response.status_code}\n"
    with _lock, open(_path, "a", encoding="utf-8") as calls:
        calls.write(line)
    if (
        case.operation.method.upper() == "DELETE"
        and case.operation.path == "/api/v1/connections/{slug}"
        and (case.path_parameters or {}).get("slug") == "demo"
        and response.status_code == 204
    ):
        _reconnect_demo()
