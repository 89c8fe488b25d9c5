"""The payment provider's recorded events, replayed through the real entry point.

The recordings are the platform's single copy in ``contract/tests/fixtures``; each is signed
at replay time by the stripe library (a recorded signature would be outside the 300 s
window) and posted to ``tessera_functions.wsgi.application`` on the real Redis.
"""

import importlib
import json

import pytest
from tessera_contract.models.envelopes import PaymentWebhookEnvelope
from tessera_contract.webhooks import webhook_envelope_decode
from tessera_functions.app import WebhookApplication
from webhook_testing import json_body, post, queued_envelopes, recorded_payload, stripe_signature
from werkzeug.test import Client

HANDLED = [
    "payment_intent.succeeded.json",
    "payment_intent.payment_failed.json",
    "charge.refunded.json",
]
IGNORED = ["customer.created.json"]


@pytest.fixture
def entry_point(entry_point_environment: str) -> WebhookApplication:
    """``tessera_functions.wsgi.application``, built from the environment as Zappa builds it."""
    module = importlib.reload(importlib.import_module("tessera_functions.wsgi"))
    application: WebhookApplication = module.application
    return application


@pytest.mark.parametrize("recording", HANDLED)
def test_a_recorded_payment_event_is_queued_with_its_body_unchanged(
    entry_point: WebhookApplication, entry_point_environment: str, recording: str
) -> None:
    body = recorded_payload(recording)

    response = post(
        Client(entry_point),
        "/webhooks/payments",
        body,
        {"Stripe-Signature": stripe_signature(body)},
    )
    entry_point.publisher.close()

    event = json.loads(body)
    assert response.status_code == 202
    assert json_body(response) == {"event_id": event["id"], "status": "queued"}
    [raw] = queued_envelopes(entry_point_environment)
    envelope = webhook_envelope_decode(raw)
    assert isinstance(envelope, PaymentWebhookEnvelope)
    assert (envelope.event_id, envelope.type) == (event["id"], event["type"])
    assert json.loads(raw)["payload"] == event


@pytest.mark.parametrize("recording", IGNORED)
def test_a_recorded_payment_event_of_another_type_is_ignored(
    entry_point: WebhookApplication, entry_point_environment: str, recording: str
) -> None:
    body = recorded_payload(recording)

    response = post(
        Client(entry_point),
        "/webhooks/payments",
        body,
        {"Stripe-Signature": stripe_signature(body)},
    )
    entry_point.publisher.close()

    assert response.status_code == 202
    assert json_body(response)["status"] == "ignored"
    assert queued_envelopes(entry_point_environment) == []
