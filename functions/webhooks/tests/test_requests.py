"""The request pipeline around the signature: size limit, validation, ignored types, health."""

import json

from tessera_functions.app import WebhookApplication, webhook_application_create
from webhook_testing import (
    carrier_headers,
    closed_port,
    json_body,
    post,
    queued_envelopes,
    recorded_payload,
    settings_for,
    stripe_signature,
)
from werkzeug.test import Client


def test_a_body_over_the_limit_gets_413_before_its_signature_is_checked() -> None:
    application = webhook_application_create(settings_for("memory://", WEBHOOK_MAX_BODY_BYTES=1024))
    body = json.dumps({"padding": "x" * 2000}).encode()

    for path, headers in [
        ("/webhooks/payments", {"Stripe-Signature": stripe_signature(body)}),
        ("/webhooks/carrier", carrier_headers(body)),
        ("/webhooks/payments", {}),
    ]:
        response = post(Client(application), path, body, headers)
        assert response.status_code == 413, path
        assert json_body(response)["type"] == "/problems/payload-too-large"
    assert queued_envelopes("memory://") == []


def test_a_body_exactly_at_the_limit_is_read_and_verified() -> None:
    body = recorded_payload("payment_intent.succeeded.json")
    application = webhook_application_create(
        settings_for("memory://", WEBHOOK_MAX_BODY_BYTES=len(body))
    )

    response = post(
        Client(application),
        "/webhooks/payments",
        body,
        {"Stripe-Signature": stripe_signature(body)},
    )

    assert response.status_code == 202
    queued_envelopes("memory://")


def test_a_chunked_body_over_the_limit_gets_413() -> None:
    application = webhook_application_create(settings_for("memory://", WEBHOOK_MAX_BODY_BYTES=100))
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/webhooks/payments",
        "wsgi.input": __import__("io").BytesIO(b"x" * 500),
    }
    statuses: list[str] = []

    application(environ, lambda status, headers: statuses.append(status))  # type: ignore[arg-type, return-value]

    assert statuses == ["413 Request Entity Too Large"]


def test_the_default_limit_is_the_contracts_256_kib(memory_app: WebhookApplication) -> None:
    body = b"{" + b" " * (256 * 1024) + b"}"

    response = post(Client(memory_app), "/webhooks/payments", body, {})

    assert response.status_code == 413


def test_a_signed_body_that_is_not_json_gets_400(memory_app: WebhookApplication) -> None:
    body = b"amount=4990&currency=eur"

    response = post(
        Client(memory_app), "/webhooks/payments", body, {"Stripe-Signature": stripe_signature(body)}
    )

    assert response.status_code == 400
    assert json_body(response)["type"] == "/problems/malformed-request"
    assert queued_envelopes("memory://") == []


def test_a_signed_payment_that_breaks_the_schema_gets_400_naming_the_field(
    memory_app: WebhookApplication,
) -> None:
    event = json.loads(recorded_payload("payment_intent.succeeded.json"))
    event["data"]["object"]["amount"] = -5
    body = json.dumps(event).encode()

    response = post(
        Client(memory_app), "/webhooks/payments", body, {"Stripe-Signature": stripe_signature(body)}
    )

    problem = json_body(response)
    assert response.status_code == 400
    assert problem["type"] == "/problems/validation-failed"
    assert "$.data.object.amount" in str(problem["detail"])
    assert queued_envelopes("memory://") == []


def test_a_signed_carrier_event_with_an_invalid_webhook_id_gets_400(
    memory_app: WebhookApplication,
) -> None:
    body = recorded_payload("shipment.delivered.json")
    # Printable ASCII, so the signature scheme accepts it; the contract's event ids do not.
    headers = carrier_headers(body, message_id="-starts-with-a-dash")

    response = post(Client(memory_app), "/webhooks/carrier", body, headers)

    assert response.status_code == 400
    assert queued_envelopes("memory://") == []


def test_an_unhandled_payment_type_is_acknowledged_as_ignored_and_not_queued(
    memory_app: WebhookApplication,
) -> None:
    body = recorded_payload("customer.created.json")

    response = post(
        Client(memory_app), "/webhooks/payments", body, {"Stripe-Signature": stripe_signature(body)}
    )

    assert response.status_code == 202
    assert json_body(response) == {"event_id": json.loads(body)["id"], "status": "ignored"}
    assert queued_envelopes("memory://") == []


def test_an_unhandled_carrier_type_is_acknowledged_as_ignored_and_not_queued(
    memory_app: WebhookApplication,
) -> None:
    body = recorded_payload("shipment.returned.json")

    response = post(
        Client(memory_app), "/webhooks/carrier", body, carrier_headers(body, message_id="msg_r1")
    )

    assert response.status_code == 202
    assert json_body(response) == {"event_id": "msg_r1", "status": "ignored"}
    assert queued_envelopes("memory://") == []


def test_an_unhandled_type_without_a_usable_id_is_refused_rather_than_acknowledged(
    memory_app: WebhookApplication,
) -> None:
    body = json.dumps({"id": "not a valid id!", "type": "customer.created"}).encode()

    response = post(
        Client(memory_app), "/webhooks/payments", body, {"Stripe-Signature": stripe_signature(body)}
    )

    assert response.status_code == 400


def test_healthz_answers_without_touching_the_broker() -> None:
    application = webhook_application_create(
        settings_for(f"amqp://guest:guest@127.0.0.1:{closed_port()}//")
    )

    response = Client(application).get("/healthz")

    assert response.status_code == 200
    assert json_body(response) == {"status": "ok", "component": "functions", "version": "0.1.0"}


def test_readyz_is_ready_when_the_broker_answers(memory_app: WebhookApplication) -> None:
    response = Client(memory_app).get("/readyz")

    assert response.status_code == 200
    assert json_body(response)["status"] == "ready"


def test_readyz_is_503_with_retry_after_when_the_broker_is_down() -> None:
    application = webhook_application_create(settings_for(f"redis://127.0.0.1:{closed_port()}/15"))

    response = Client(application).get("/readyz")

    body = json_body(response)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert body["status"] == "unavailable"
    assert body["checks"] == [
        {
            "name": "broker",
            "status": "failing",
            "duration_ms": body["checks"][0]["duration_ms"],
            "detail": "OperationalError",
        }  # type: ignore[index]
    ]


def test_unknown_paths_and_wrong_methods_get_problems(memory_app: WebhookApplication) -> None:
    client = Client(memory_app)

    missing = client.get("/webhooks/refunds")
    wrong_method = client.get("/webhooks/payments")

    assert missing.status_code == 404
    assert json_body(missing)["type"] == "/problems/not-found"
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST"
