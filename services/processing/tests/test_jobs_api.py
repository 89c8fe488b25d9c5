"""The jobs API: who gets in, idempotent creation, reading and cancelling jobs."""

import json
import time
import uuid

import pytest
from django.test import Client
from processing.jobs.models import Job, JobStatus

from .conftest import authorization

pytestmark = pytest.mark.django_db

RENDITIONS = {
    "kind": "image_renditions",
    "subject": {"type": "product_image", "reference": "42"},
    "input": {
        "source_location": "sources/teapot.jpg",
        "widths": [320, 640, 1280],
        "formats": ["webp", "jpeg"],
    },
}


def create(client: Client, body: object, *, key: str = "renditions-42", auth: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"HTTP_IDEMPOTENCY_KEY": key, "HTTP_AUTHORIZATION": auth or authorization()}
    return client.post("/api/v1/jobs", json.dumps(body), content_type="application/json", **headers)


def test_a_job_is_created_queued_with_a_location():
    response = create(Client(), RENDITIONS)
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["status"] == "queued"
    assert job["attempts"] == 0
    assert job["kind"] == "image_renditions"
    assert response["Location"] == f"/api/v1/jobs/{job['job_id']}"


def test_the_same_idempotency_key_and_body_returns_the_same_job():
    first = create(Client(), RENDITIONS)
    again = create(Client(), dict(reversed(list(RENDITIONS.items()))))  # key order is not the body
    assert again.status_code == 200
    assert again.json()["job_id"] == first.json()["job_id"]
    assert Job.objects.count() == 1


def test_the_same_idempotency_key_with_another_body_is_a_conflict():
    create(Client(), RENDITIONS)
    other = {**RENDITIONS, "subject": {"type": "product_image", "reference": "43"}}
    response = create(Client(), other)
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/idempotency-conflict"


def test_a_missing_idempotency_key_is_400():
    response = Client().post(
        "/api/v1/jobs",
        json.dumps(RENDITIONS),
        content_type="application/json",
        HTTP_AUTHORIZATION=authorization(),
    )
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/idempotency-key-missing"


def test_a_body_breaking_the_schema_is_422_and_not_json_is_400():
    assert create(Client(), {**RENDITIONS, "kind": "transcode"}).status_code == 422
    response = Client().post(
        "/api/v1/jobs",
        b"{not json",
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
        HTTP_AUTHORIZATION=authorization(),
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("auth", "status"),
    [
        (None, 401),
        ("Bearer not-a-token", 401),
        (lambda: authorization(audience="monolith"), 401),
        (lambda: authorization(now=time.time() - 3600), 401),
        (
            lambda: (
                authorization()[:-4] + ("AAAA" if not authorization().endswith("AAAA") else "BBBB")
            ),
            401,
        ),
        (lambda: authorization(issuer="functions"), 403),
    ],
    ids=["no-token", "garbage", "wrong-audience", "expired", "tampered", "issuer-not-allowed"],
)
def test_only_a_valid_token_for_this_service_gets_in(auth, status):  # type: ignore[no-untyped-def]
    headers = {} if auth is None else {"HTTP_AUTHORIZATION": auth() if callable(auth) else auth}
    for response in (
        Client().get(f"/api/v1/jobs/{uuid.uuid4()}", **headers),
        Client().post(
            "/api/v1/jobs",
            json.dumps(RENDITIONS),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="k",
            **headers,
        ),
    ):
        assert response.status_code == status
        assert response["Content-Type"] == "application/problem+json"
        if status == 401:
            assert response["WWW-Authenticate"].startswith("Bearer")
    assert Job.objects.count() == 0


def test_a_job_is_read_and_an_unknown_one_is_404():
    job_id = create(Client(), RENDITIONS).json()["job_id"]
    assert (
        Client().get(f"/api/v1/jobs/{job_id}", HTTP_AUTHORIZATION=authorization()).json()["job_id"]
        == job_id
    )
    missing = Client().get(f"/api/v1/jobs/{uuid.uuid4()}", HTTP_AUTHORIZATION=authorization())
    assert missing.status_code == 404
    assert missing.json()["type"] == "/problems/not-found"


def test_cancelling_a_queued_job_is_immediate_and_a_finished_one_is_409():
    job_id = create(Client(), RENDITIONS).json()["job_id"]
    cancel = Client().post(f"/api/v1/jobs/{job_id}/cancel", HTTP_AUTHORIZATION=authorization())
    assert cancel.status_code == 200
    assert cancel.json()["status"] == "cancelled"
    assert (
        Client()
        .post(f"/api/v1/jobs/{job_id}/cancel", HTTP_AUTHORIZATION=authorization())
        .status_code
        == 200
    )
    Job.objects.filter(id=job_id).update(status=JobStatus.SUCCEEDED)
    refused = Client().post(f"/api/v1/jobs/{job_id}/cancel", HTTP_AUTHORIZATION=authorization())
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/job-not-cancellable"


def test_cancelling_a_running_job_asks_it_to_stop():
    job_id = create(Client(), RENDITIONS).json()["job_id"]
    Job.objects.filter(id=job_id).update(status=JobStatus.RUNNING)
    response = Client().post(f"/api/v1/jobs/{job_id}/cancel", HTTP_AUTHORIZATION=authorization())
    assert response.status_code == 202
    assert response.json()["cancel_requested"] is True


def test_health_and_readiness():
    assert Client().get("/healthz").json()["component"] == "processing"
    ready = Client().get("/readyz")
    assert ready.status_code == 200, ready.content
    assert {check["name"] for check in ready.json()["checks"]} == {"database", "broker", "storage"}


REPORT = {
    "kind": "sales_report",
    "subject": {"type": "sales_report", "reference": "october"},
    "input": {
        "date_from": "2026-10-01",
        "date_to": "2026-10-31",
        "currency": "EUR",
        "source_location": "exports/orders.csv",
        "formats": ["csv"],
    },
}


@pytest.mark.parametrize(
    ("changes", "pointers"),
    [
        ({"formats": ["pdf"]}, ["/input/formats/0"]),
        ({"formats": ["csv", "pdf"]}, ["/input/formats/1"]),  # never silently csv only
        ({"date_to": "2026-09-30"}, ["/input/date_to"]),
    ],
)
def test_a_report_the_service_cannot_make_is_refused_with_a_precise_422(changes, pointers):  # type: ignore[no-untyped-def]
    body = {**REPORT, "input": {**REPORT["input"], **changes}}
    response = create(Client(), body, key="report-refused")
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/validation-failed"
    assert [error["pointer"] for error in problem["errors"]] == pointers
    assert Job.objects.count() == 0


def test_whole_number_float_widths_are_integers_as_in_the_schema():
    body = json.loads(json.dumps(RENDITIONS).replace("[320, 640, 1280]", "[320.0, 6.4e2, 1280]"))
    response = create(Client(), body, key="float-widths")
    assert response.status_code == 201, response.content
    assert Job.objects.get().input["widths"] == [320, 640, 1280]
