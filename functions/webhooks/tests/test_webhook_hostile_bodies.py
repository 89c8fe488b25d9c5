"""Bodies the functions can never accept get a 4xx problem, never a 5xx that would tell the
sender to retry them: a signed 1,000-level nesting (RecursionError, a 503 before) and a
signed body sent as text/plain. Every answer carries the platform's security headers."""

from tessera_functions.app import WebhookApplication
from tessera_runtime.problems.answers import PROBLEM_MEDIA_TYPE, ProblemType
from webhook_testing import carrier_headers, json_body, post, recorded_payload, stripe_signature
from werkzeug.test import Client

NESTED_1000 = b'{"type": "payment_intent.succeeded", "data": ' + b"[" * 1000 + b"]" * 1000 + b"}"


def test_a_signed_payment_nested_a_thousand_levels_deep_is_a_400_problem(
    memory_app: WebhookApplication,
) -> None:
    response = post(
        Client(memory_app),
        "/webhooks/payments",
        NESTED_1000,
        {"Stripe-Signature": stripe_signature(NESTED_1000)},
    )

    assert response.status_code == 400
    assert response.headers["Content-Type"] == PROBLEM_MEDIA_TYPE
    assert json_body(response)["type"] == ProblemType.MALFORMED_REQUEST


def test_a_signed_carrier_event_nested_a_thousand_levels_deep_is_a_400_problem(
    memory_app: WebhookApplication,
) -> None:
    response = post(
        Client(memory_app), "/webhooks/carrier", NESTED_1000, carrier_headers(NESTED_1000)
    )

    assert response.status_code == 400
    assert json_body(response)["type"] == ProblemType.MALFORMED_REQUEST


def test_a_signed_event_sent_as_text_plain_is_refused_with_415(
    memory_app: WebhookApplication,
) -> None:
    payment = recorded_payload("payment_intent.succeeded.json")

    response = Client(memory_app).post(
        "/webhooks/payments",
        data=payment,
        headers={"Content-Type": "text/plain", "Stripe-Signature": stripe_signature(payment)},
    )

    assert response.status_code == 415
    assert json_body(response)["type"] == ProblemType.UNSUPPORTED_MEDIA_TYPE


def test_every_answer_carries_the_security_headers(memory_app: WebhookApplication) -> None:
    for response in (Client(memory_app).get("/healthz"), Client(memory_app).get("/nowhere")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
