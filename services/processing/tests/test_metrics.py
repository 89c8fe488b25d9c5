"""``GET /metrics`` on the processing API: request latency by route, the job queues' depth."""

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tessera_contract.messaging import PROCESSING_JOB_QUEUES


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.mark.django_db
def test_metrics_count_a_job_request_by_its_route_and_read_the_queues(
    client, monolith_headers: dict[str, str]
) -> None:
    key = (
        "tessera_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "api/v1/jobs/<str:job_id>"), ("status", "404")),
    )
    before = _samples(client.get("/metrics").content.decode()).get(key, 0.0)

    missing = client.get(
        "/api/v1/jobs/00000000-0000-0000-0000-000000000000", headers=monolith_headers
    )

    assert missing.status_code == 404
    response = client.get("/metrics")
    assert response.status_code == 200
    samples = _samples(response.content.decode())
    assert samples[key] == before + 1
    assert samples[("tessera_queue_depth_up", ())] == 1
    documents = PROCESSING_JOB_QUEUES["invoice_pdf"]
    assert ("tessera_queue_depth", (("queue", documents),)) in samples
