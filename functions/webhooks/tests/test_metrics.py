"""``GET /metrics`` on the local server: webhook outcomes and latency, summed over its workers."""

import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from webhook_testing import (
    local_server,
    recorded_payload,
    stripe_signature,
)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _post(url: str, body: bytes, signature: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - a loopback URL built by the test
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_the_local_server_counts_webhook_outcomes_across_its_workers(tmp_path: Path) -> None:
    with local_server(tmp_path, workers=2) as base:
        body = recorded_payload("payment_intent.succeeded.json")
        statuses = [
            _post(f"{base}/webhooks/payments", body, stripe_signature(body)),
            _post(f"{base}/webhooks/payments", body, "t=1,v1=forged"),
            _post(f"{base}/webhooks/payments", body, "t=1,v1=forged"),
        ]
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:  # noqa: S310
            content_type = response.headers["Content-Type"]
            samples = _samples(response.read().decode())

    assert statuses == [202, 401, 401]
    assert content_type.startswith("text/plain")
    deliveries = "tessera_webhook_deliveries_total"
    assert samples[(deliveries, (("result", "accepted"), ("source", "payments")))] == 1
    assert samples[(deliveries, (("result", "rejected_signature"), ("source", "payments")))] == 2
    latency = "tessera_http_request_duration_seconds_count"
    route = (("method", "POST"), ("route", "/webhooks/payments"))
    assert samples[(latency, (*route, ("status", "202")))] == 1
    assert samples[(latency, (*route, ("status", "401")))] == 2
