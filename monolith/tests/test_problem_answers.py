"""Every error the monolith's APIs answer is a contract problem, with DEBUG on or off.

The error paths are driven through the real URLs (storefront API and the job-result callback);
each answer must be application/problem+json with a type that ProblemType lists. A type the
contract lacks, or Django's HTML page in place of a problem, fails here.
"""

import base64
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle
from tessera_runtime.problems.answers import PROBLEM_MEDIA_TYPE, ProblemType

from .factories import make_category, make_product

pytestmark = pytest.mark.django_db
CALLBACK = "/internal/v1/job-results"
CALLBACK_SECRET = "whsec_" + base64.b64encode(b"problem-answers-test-key-32bytes").decode()


def _storefront_errors(shopper) -> dict[str, Any]:
    mug = make_product(category=make_category("Kitchen"), name="Mug", stock=10)
    api = APIClient()
    cart = api.post("/api/v1/carts").json()
    lines = f"/api/v1/carts/{cart['id']}/lines"
    signed_in = APIClient(enforce_csrf_checks=True)
    signed_in.force_login(shopper)
    return {
        "bad query parameter": api.get("/api/v1/products", {"sort": "sideways"}),
        "body not JSON": api.generic("POST", lines, "{not json", content_type="application/json"),
        "unknown SKU": api.post(lines, {"sku": "NOPE"}, format="json"),
        "not enough stock": api.post(lines, {"sku": mug.sku, "quantity": 50}, format="json"),
        "signed out": api.get("/api/v1/orders"),
        "wrong token": APIClient(HTTP_AUTHORIZATION="Token nope").get("/api/v1/orders"),
        "no CSRF token": signed_in.post("/api/v1/carts"),
        "unknown product": api.get("/api/v1/products/no-such-thing"),
        "unknown cart line": api.delete(f"{lines}/NOPE"),
        "unknown API path": api.get("/api/v1/no-such-endpoint"),
        "wrong method": api.patch("/api/v1/categories"),
        "not acceptable": api.get("/api/v1/categories", HTTP_ACCEPT="text/html"),
        "body not JSON media type": api.generic("POST", lines, "sku=x", content_type="text/plain"),
    }


def _callback_errors(client: Client, settings) -> dict[str, Any]:
    settings.JOB_RESULT_CALLBACK_SECRETS = CALLBACK_SECRET
    answers = {
        "callback GET": client.get(CALLBACK),
        "callback unsigned": client.post(CALLBACK, b"{}", content_type="application/json"),
        "callback too large": client.post(
            CALLBACK, b"x" * (256 * 1024 + 1), content_type="application/json"
        ),
        "unknown internal path": client.post("/internal/v1/no-such-callback"),
    }
    settings.JOB_RESULT_CALLBACK_SECRETS = ""
    answers["callback not configured"] = client.post(
        CALLBACK, b"{}", content_type="application/json"
    )
    return answers


def _problem_types(answers: dict[str, Any]) -> dict[str, str]:
    """The type of each answer; fails on an answer that is not a contract problem."""
    types = {}
    for label, response in answers.items():
        assert response.status_code >= 400, label
        assert response["Content-Type"] == PROBLEM_MEDIA_TYPE, (label, response.content[:200])
        problem = response.json()
        assert problem["status"] == response.status_code, label
        assert problem["type"] in set(ProblemType), (
            f"{label}: {problem['type']} is not in the contract"
        )
        types[label] = problem["type"]
    return types


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on (make run)"])
def test_every_api_error_is_a_problem_of_a_contract_type(client, settings, shopper, debug):
    settings.DEBUG = debug

    types = _problem_types(_storefront_errors(shopper) | _callback_errors(client, settings))

    assert types == {
        "bad query parameter": ProblemType.VALIDATION_FAILED,
        "body not JSON": ProblemType.MALFORMED_REQUEST,
        "unknown SKU": ProblemType.VALIDATION_FAILED,
        "not enough stock": ProblemType.BUSINESS_RULE,
        "signed out": ProblemType.NOT_AUTHENTICATED,
        "wrong token": ProblemType.NOT_AUTHENTICATED,
        "no CSRF token": ProblemType.FORBIDDEN,
        "unknown product": ProblemType.NOT_FOUND,
        "unknown cart line": ProblemType.NOT_FOUND,
        "unknown API path": ProblemType.NOT_FOUND,
        "wrong method": ProblemType.METHOD_NOT_ALLOWED,
        "not acceptable": ProblemType.NOT_ACCEPTABLE,
        "body not JSON media type": ProblemType.UNSUPPORTED_MEDIA_TYPE,
        "callback GET": ProblemType.METHOD_NOT_ALLOWED,
        "callback unsigned": ProblemType.SIGNATURE_INVALID,
        "callback too large": ProblemType.PAYLOAD_TOO_LARGE,
        "unknown internal path": ProblemType.NOT_FOUND,
        "callback not configured": ProblemType.SERVICE_UNAVAILABLE,
    }


def test_throttled_requests_get_a_rate_limited_problem(monkeypatch):
    # DRF reads the rates into the throttle class at import, so the test sets them there.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "1/min", "user": "1/min"})
    api = APIClient()
    answers = [api.get("/api/v1/categories") for _ in range(2)]

    assert _problem_types({"throttled": answers[-1]}) == {"throttled": ProblemType.RATE_LIMITED}


def test_the_job_result_callback_answers_another_method_with_a_problem_405(client):
    response = client.get(CALLBACK)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response["Content-Type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["type"] == "/problems/method-not-allowed"


def test_removing_a_cart_line_answers_204_without_a_body_as_the_contract_says():
    mug = make_product(category=make_category("Kitchen"), name="Mug")
    api = APIClient()
    cart = api.post("/api/v1/carts").json()
    lines = f"/api/v1/carts/{cart['id']}/lines"
    api.post(lines, {"sku": mug.sku}, format="json")

    removed = api.delete(f"{lines}/{mug.sku}")

    assert removed.status_code == 204
    assert removed.content == b""
    assert api.get(f"/api/v1/carts/{cart['id']}").json()["lines"] == []
