"""Every error the jobs API answers is a contract problem, with DEBUG on or off.

The error paths are driven through the service's real URLs; each answer must be
application/problem+json with a type that ProblemType lists. A type the contract lacks, or
Django's HTML page in place of a problem (a too-large body, an unknown path), fails here.
"""

import json
import uuid
from typing import Any

import pytest
from django.test import Client
from processing.jobs.models import Job, JobStatus
from tessera_runtime.problems.answers import PROBLEM_MEDIA_TYPE, ProblemType

from .conftest import authorization
from .test_jobs_api import RENDITIONS, create

pytestmark = pytest.mark.django_db


def _error_answers() -> dict[str, Any]:
    client = Client()
    finished = create(client, RENDITIONS, key="taken").json()["job_id"]
    Job.objects.filter(id=finished).update(status=JobStatus.SUCCEEDED)
    another_subject = {**RENDITIONS, "subject": {"type": "product_image", "reference": "43"}}
    auth = {"HTTP_AUTHORIZATION": authorization()}
    return {
        "no token": client.get(f"/api/v1/jobs/{uuid.uuid4()}"),
        "bad token": client.get(f"/api/v1/jobs/{uuid.uuid4()}", HTTP_AUTHORIZATION="Bearer x"),
        "caller not allowed": client.get(
            f"/api/v1/jobs/{uuid.uuid4()}", HTTP_AUTHORIZATION=authorization(issuer="sandbox")
        ),
        "no idempotency key": client.post(
            "/api/v1/jobs", json.dumps(RENDITIONS), content_type="application/json", **auth
        ),
        "body not JSON": client.post(
            "/api/v1/jobs",
            "{not json",
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="not-json",
            **auth,
        ),
        "invalid body": create(client, {"kind": "image_renditions"}, key="invalid"),
        "key reused": create(client, another_subject, key="taken"),
        "body too large": client.post(
            "/api/v1/jobs",
            b"{" + b" " * (1024 * 1024 + 1) + b"}",
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="too-large",
            **auth,
        ),
        "unknown job": client.get(f"/api/v1/jobs/{uuid.uuid4()}", **auth),
        "not cancellable": client.post(f"/api/v1/jobs/{finished}/cancel", **auth),
        "wrong method": client.delete(f"/api/v1/jobs/{finished}", **auth),
        "unknown path": client.get("/api/v1/no-such-endpoint", **auth),
        "unknown path outside the API": client.post("/no-such-page"),
    }


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on (make run)"])
def test_every_api_error_is_a_problem_of_a_contract_type(settings, debug):
    settings.DEBUG = debug
    types = {}

    for label, response in _error_answers().items():
        assert response.status_code >= 400, label
        assert response["Content-Type"] == PROBLEM_MEDIA_TYPE, (label, response.content[:200])
        problem = response.json()
        assert problem["status"] == response.status_code, label
        assert problem["type"] in set(ProblemType), f"{label}: {problem['type']} not in contract"
        types[label] = problem["type"]

    assert types == {
        "no token": ProblemType.TOKEN_INVALID,
        "bad token": ProblemType.TOKEN_INVALID,
        "caller not allowed": ProblemType.FORBIDDEN,
        "no idempotency key": ProblemType.IDEMPOTENCY_KEY_MISSING,
        "body not JSON": ProblemType.MALFORMED_REQUEST,
        "invalid body": ProblemType.VALIDATION_FAILED,
        "key reused": ProblemType.IDEMPOTENCY_CONFLICT,
        "body too large": ProblemType.PAYLOAD_TOO_LARGE,
        "unknown job": ProblemType.NOT_FOUND,
        "not cancellable": ProblemType.JOB_NOT_CANCELLABLE,
        "wrong method": ProblemType.METHOD_NOT_ALLOWED,
        "unknown path": ProblemType.NOT_FOUND,
        "unknown path outside the API": ProblemType.NOT_FOUND,
    }


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on (make run)"])
def test_a_body_over_the_limit_is_a_413_problem_not_an_html_400(settings, debug):
    settings.DEBUG = debug

    response = Client().post(
        "/api/v1/jobs",
        b"{" + b" " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b"}",
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="too-large",
        HTTP_AUTHORIZATION=authorization(),
    )

    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["type"] == "/problems/payload-too-large"


def test_with_debug_on_an_unknown_path_is_a_problem_404_not_the_debug_page(settings):
    settings.DEBUG = True

    response = Client().get("/no/such/path")

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["type"] == "/problems/not-found"


def test_the_admin_still_redirects_to_its_trailing_slash():
    assert Client().get("/admin")["Location"] == "/admin/"
