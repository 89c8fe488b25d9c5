"""The carrier's recorded events, replayed through the real entry point.

Signed at replay time by the standardwebhooks library and posted to
``tessera_functions.wsgi.application`` on the real Redis.
"""

import importlib
import json

import pytest
from tessera_contract.models.envelopes import CarrierWebhookEnvelope
from tessera_contract.webhooks import webhook_envelope_decode
from tessera_functions.app import WebhookApplication
from webhook_testing import carrier_headers, json_body, post, queued_envelopes, recorded_payload
from werkzeug.test import Client

HANDLED = ["shipment.in_transit.json", "shipment.delivered.json", "shipment.exception.json"]
IGNORED = ["shipment.returned.json"]


@pytest.fixture
def entry_point(entry_point_environment: str) -> WebhookApplication:
    """``tessera_functions.wsgi.application``, built from the environment as Zappa builds it."""
    module = importlib.reload(importlib.import_module("tessera_functions.wsgi"))
    application: WebhookApplication = module.application
    return application


@pytest.mark.parametrize("recording", HANDLED)
def test_a_recorded_carrier_event_is_queued_under_its_webhook_id(
    entry_point: WebhookApplication, entry_point_environment: str, recording: str
) -> None:
    body = recorded_payload(recording)
    message_id = "msg_" + recording.removesuffix(".json").replace(".", "_")

    response = post(
        Client(entry_point), "/webhooks/carrier", body, carrier_headers(body, message_id=message_id)
    )
    entry_point.publisher.close()

    event = json.loads(body)
    assert response.status_code == 202
    assert json_body(response) == {"event_id": message_id, "status": "queued"}
    [raw] = queued_envelopes(entry_point_environment)
    envelope = webhook_envelope_decode(raw)
    assert isinstance(envelope, CarrierWebhookEnvelope)
    assert (envelope.event_id, envelope.type) == (message_id, event["type"])
    assert json.loads(raw)["payload"] == event


@pytest.mark.parametrize("recording", IGNORED)
def test_a_recorded_carrier_event_of_another_type_is_ignored(
    entry_point: WebhookApplication, entry_point_environment: str, recording: str
) -> None:
    body = recorded_payload(recording)

    response = post(Client(entry_point), "/webhooks/carrier", body, carrier_headers(body))
    entry_point.publisher.close()

    assert response.status_code == 202
    assert json_body(response)["status"] == "ignored"
    assert queued_envelopes(entry_point_environment) == []
