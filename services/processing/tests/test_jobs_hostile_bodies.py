"""Bodies the jobs API can never accept get a 4xx problem, never a crash: a 1,000-level
nesting (RecursionError inside the parser, a 500 before) and a body that is not JSON."""

import json

import pytest
from django.test import Client
from processing.jobs.models import Job
from tessera_runtime.problems.answers import PROBLEM_MEDIA_TYPE, ProblemType

from .conftest import authorization
from .test_jobs_api import RENDITIONS

pytestmark = pytest.mark.django_db

NESTED_1000 = b"[" * 1000 + b"]" * 1000


def _post(body: bytes, content_type: str):  # type: ignore[no-untyped-def]
    return Client().post(
        "/api/v1/jobs",
        body,
        content_type=content_type,
        HTTP_IDEMPOTENCY_KEY="hostile-body",
        HTTP_AUTHORIZATION=authorization(),
    )


def test_a_thousand_nested_arrays_are_a_400_problem_before_parsing():
    response = _post(NESTED_1000, "application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["type"] == ProblemType.MALFORMED_REQUEST
    assert "deeper than 32 levels" in response.json()["detail"]


def test_a_json_body_sent_as_text_plain_is_refused_with_415():
    response = _post(json.dumps(RENDITIONS).encode(), "text/plain")

    assert response.status_code == 415
    assert response.json()["type"] == ProblemType.UNSUPPORTED_MEDIA_TYPE
    assert not Job.objects.exists()
