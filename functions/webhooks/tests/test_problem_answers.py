"""Every error the webhook functions answer is a contract problem.

The error paths are driven through the WSGI application; each answer must be
application/problem+json with a type that ProblemType lists. A type the contract lacks fails.
"""

import json

from tessera_functions.app import WebhookApplication, webhook_application_create
from tessera_runtime.problems.answers import PROBLEM_MEDIA_TYPE, RETRY_AFTER_SECONDS, ProblemType
from webhook_testing import (
    closed_port,
    json_body,
    post,
    recorded_payload,
    settings_for,
    stripe_signature,
)
from werkzeug.test import Client, TestResponse


def _error_answers(application: WebhookApplication) -> dict[str, TestResponse]:
    client = Client(application)
    invalid_event = json.loads(recorded_payload("payment_intent.succeeded.json"))
    invalid_event["data"]["object"]["amount"] = -5
    invalid = json.dumps(invalid_event).encode()
    not_json = b"amount=4990"
    return {
        "unknown path": client.get("/webhooks/refunds"),
        "wrong method": client.get("/webhooks/payments"),
        "body too large": post(client, "/webhooks/carrier", b"{" + b" " * 300_000 + b"}", {}),
        "unsigned": post(client, "/webhooks/payments", b"{}", {}),
        "body not JSON": post(
            client, "/webhooks/payments", not_json, {"Stripe-Signature": stripe_signature(not_json)}
        ),
        "invalid event": post(
            client, "/webhooks/payments", invalid, {"Stripe-Signature": stripe_signature(invalid)}
        ),
    }


def _problem_types(answers: dict[str, TestResponse]) -> dict[str, str]:
    types = {}
    for label, response in answers.items():
        assert response.status_code >= 400, label
        assert response.headers["Content-Type"] == PROBLEM_MEDIA_TYPE, label
        problem = json_body(response)
        assert problem["status"] == response.status_code, label
        assert problem["type"] in set(ProblemType), f"{label}: {problem['type']} not in contract"
        types[label] = str(problem["type"])
    return types


def test_every_error_is_a_problem_of_a_contract_type(memory_app: WebhookApplication) -> None:
    types = _problem_types(_error_answers(memory_app))

    assert types == {
        "unknown path": ProblemType.NOT_FOUND,
        "wrong method": ProblemType.METHOD_NOT_ALLOWED,
        "body too large": ProblemType.PAYLOAD_TOO_LARGE,
        "unsigned": ProblemType.SIGNATURE_INVALID,
        "body not JSON": ProblemType.MALFORMED_REQUEST,
        "invalid event": ProblemType.VALIDATION_FAILED,
    }


def test_a_wrong_method_is_method_not_allowed_naming_the_allowed_one(
    memory_app: WebhookApplication,
) -> None:
    response = Client(memory_app).get("/webhooks/carrier")

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert json_body(response)["type"] == "/problems/method-not-allowed"


def test_a_broker_that_is_down_is_a_service_unavailable_problem_with_retry_after() -> None:
    application = webhook_application_create(settings_for(f"redis://127.0.0.1:{closed_port()}/15"))
    body = recorded_payload("payment_intent.succeeded.json")

    response = post(
        Client(application),
        "/webhooks/payments",
        body,
        {"Stripe-Signature": stripe_signature(body)},
    )

    assert _problem_types({"broker down": response}) == {
        "broker down": ProblemType.SERVICE_UNAVAILABLE
    }
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    application.publisher.close()
