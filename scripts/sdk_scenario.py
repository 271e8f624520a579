"""A third-party client's story, told with the Python client generated from openapi.yaml.

Register, sign in, create a personal API token; then, with the token alone: list the sources,
connect Demo with an API key, wait for its sync, create a metric, read its series, and check that
what the generated client parsed is exactly what the JSON API answers.

Usage: python sdk_scenario.py BASE_URL DEMO_API_KEY  (the generated package on PYTHONPATH)
"""

import importlib
import sys
import time
from http import HTTPStatus

import httpx

from allmetrics_client import AuthenticatedClient, Client
from allmetrics_client import models

BASE_URL, DEMO_API_KEY = sys.argv[1], sys.argv[2]
EMAIL, PASSWORD = "sdk-user@example.com", "a long sdk passphrase"


def operation(tag: str, operation_id: str):
    """The generated module of one operation (`api/<tag>/<operation_id>.py`)."""
    return importlib.import_module(f"allmetrics_client.api.{tag}.{operation_id}")


def expect(response, status: HTTPStatus, what: str):
    if response.status_code != status:
        raise SystemExit(
            f"{what}: expected {status.value}, got {response.status_code.value}: "
            f"{response.content[:500]!r}"
        )
    return response.parsed


anonymous = Client(base_url=BASE_URL, raise_on_unexpected_status=True)
expect(
    operation("auth", "register").sync_detailed(
        client=anonymous, body=models.RegisterRequest(email=EMAIL, password=PASSWORD)
    ),
    HTTPStatus.CREATED,
    "register",
)
session = expect(
    operation("auth", "login").sync_detailed(
        client=anonymous, body=models.Credentials(email=EMAIL, password=PASSWORD)
    ),
    HTTPStatus.OK,
    "login",
)
signed_in = AuthenticatedClient(base_url=BASE_URL, token=session.access_token)
created = expect(
    operation("tokens", "create_token").sync_detailed(
        client=signed_in,
        body=models.CreateApiTokenRequest(
            name="sdk scenario", scope=models.ApiTokenScope.WRITE, expires_in_days=1
        ),
    ),
    HTTPStatus.CREATED,
    "create an API token",
)
assert created.token.startswith("am_pat_"), created.token
print(f"token {created.api_token.prefix}... ({created.api_token.scope.value})")

# From here on, the token alone.
client = AuthenticatedClient(base_url=BASE_URL, token=created.token)
sources = expect(
    operation("sources", "list_sources").sync_detailed(client=client), HTTPStatus.OK, "sources"
)
assert "demo" in [source.slug for source in sources], [source.slug for source in sources]

expect(
    operation("connections", "connect_api_key").sync_detailed(
        "demo", client=client, body=models.ApiKeyRequest(api_key=DEMO_API_KEY)
    ),
    HTTPStatus.CREATED,
    "connect Demo by API key",
)
deadline = time.monotonic() + 120
while True:
    status = expect(
        operation("connections", "get_sync_status").sync_detailed("demo", client=client),
        HTTPStatus.OK,
        "sync status",
    )
    objects = status.objects.to_dict()
    if objects and all(item["done"] for item in objects.values()):
        break
    if time.monotonic() > deadline:
        raise SystemExit(f"the sync did not finish: {status.to_dict()}")
    time.sleep(1)
print(f"synced: { {name: item['synced'] for name, item in objects.items()} }")

metric = expect(
    operation("metrics", "create_metric").sync_detailed(
        client=client,
        body=models.CreateMetricRequest(
            name="Charges by currency",
            source="demo",
            object_name="Charge",
            operator="sum",
            field_name="currency",
            value_field="amount",
        ),
    ),
    HTTPStatus.CREATED,
    "create a metric",
)
# Right after it is saved, a metric's series says `meta.partial` while its rollup is built.
deadline = time.monotonic() + 60
while True:
    series = expect(
        operation("metrics", "get_metric_series").sync_detailed(
            metric.id, client=client, total_days=90
        ),
        HTTPStatus.OK,
        "the metric's series",
    )
    if not series.meta.partial:
        break
    if time.monotonic() > deadline:
        raise SystemExit("the metric's series stayed partial")
    time.sleep(0.5)

# What the generated client parsed is exactly what the JSON API says.
raw = httpx.get(
    f"{BASE_URL}/api/v1/metrics/{metric.id}/series",
    params={"total_days": 90},
    headers={"Authorization": f"Bearer {created.token}"},
)
raw.raise_for_status()
assert series.to_dict() == raw.json(), (series.to_dict(), raw.json())
# labelY: the total of each day; labelZ: each currency's days.
total = sum(series.label_y)
currencies = series.label_z.to_dict()
assert total == sum(sum(days) for days in currencies.values()), "groups add up to the days"
assert total > 0, "the demo account has charges in the last 90 days"
query = httpx.get(
    f"{BASE_URL}/connect/query/demo",
    params={
        "object_name": "Charge",
        "operator": "sum",
        "field_name": "currency",
        "value_field": "amount",
        "total_days": 90,
    },
    headers={"Authorization": f"Bearer {created.token}"},
)
query.raise_for_status()
for part in ("labelX", "labelY", "labelZ"):
    assert query.json()[part] == raw.json()[part], f"the saved metric and the query agree on {part}"
print(f"series: {len(series.label_x)} days, currencies {sorted(currencies)}, total {total}")
print("the generated client's scenario passed")
