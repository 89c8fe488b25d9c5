"""``GET /metrics``: Prometheus text with request latency by route and the queue depth."""

from __future__ import annotations

import pytest
from kombu import Connection
from prometheus_client.parser import text_string_to_metric_families
from tessera_contract.messaging import WEBHOOK_QUEUE

from monolith.inbox.consumers import webhook_queue

# /metrics reads the overdue work from the database (test_overdue_work.py).
pytestmark = pytest.mark.django_db


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _healthz_count(client) -> float:
    samples = _samples(client.get("/metrics").content.decode())
    key = (
        "tessera_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "healthz"), ("status", "200")),
    )
    return samples.get(key, 0.0)


def test_metrics_count_a_request_by_its_route_pattern(client) -> None:
    before = _healthz_count(client)

    assert client.get("/healthz").status_code == 200

    assert _healthz_count(client) == before + 1


def test_metrics_label_unknown_paths_as_one_route(client) -> None:
    client.get("/no-such-page-1")
    client.get("/no-such-page-2")

    text = client.get("/metrics").content.decode()

    assert "no-such-page" not in text
    assert 'route="unmatched"' in text


def test_metrics_read_the_webhook_queue_depth_from_the_broker(
    client, settings, redis_url: str
) -> None:
    broker_url = redis_url.rsplit("/", 1)[0] + "/8"  # this suite's telemetry database
    settings.CELERY_BROKER_URL = broker_url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    with Connection(broker_url) as broker:
        queue = webhook_queue()(broker.default_channel)
        queue.declare()
        queue.purge()
        producer = broker.Producer()
        for _ in range(3):
            producer.publish(b"{}", routing_key=queue.name, exchange=queue.exchange)

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = _samples(response.content.decode())
    assert samples[("tessera_queue_depth_up", ())] == 1
    assert samples[("tessera_queue_depth", (("queue", WEBHOOK_QUEUE),))] == 3
    with Connection(broker_url) as broker:
        webhook_queue()(broker.default_channel).purge()


def test_metrics_answer_when_the_broker_is_down(client, settings) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # the discard port: nothing listens

    response = client.get("/metrics")

    assert response.status_code == 200
    assert _samples(response.content.decode())[("tessera_queue_depth_up", ())] == 0
