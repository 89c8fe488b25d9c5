"""On the machine's real Redis and RabbitMQ, and on a stand-in for SQS: 202 means queued, a
broken broker means 503.

Nothing is acknowledged that is not on the queue, and a delivery refused while the broker
was down lands once the sender retries after it is back.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from tessera_contract.webhooks import webhook_envelope_decode
from tessera_functions.app import webhook_application_create
from tessera_testsupport.proxies import SwitchableBrokerProxy
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

PAYMENT_BODY = recorded_payload("payment_intent.succeeded.json")
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_delivered_payment_is_on_the_queue_as_the_contracts_envelope(
    real_broker_url: str,
) -> None:
    application = webhook_application_create(settings_for(real_broker_url))
    headers = {"Stripe-Signature": stripe_signature(PAYMENT_BODY), "traceparent": TRACEPARENT}

    response = post(Client(application), "/webhooks/payments", PAYMENT_BODY, headers)
    application.publisher.close()

    assert response.status_code == 202
    [raw] = queued_envelopes(real_broker_url)
    envelope = webhook_envelope_decode(raw)
    assert envelope.event_id == "evt_3QfK8sLkdIwHu7ix0aCy1RfM"
    assert envelope.type == "payment_intent.succeeded"
    assert envelope.trace.traceparent == TRACEPARENT
    assert envelope.payload.data.object.amount == 4990  # type: ignore[union-attr]
    assert abs(envelope.received_at.timestamp() - time.time()) < 60


def test_a_delivered_carrier_event_is_on_the_queue_under_its_webhook_id(
    real_broker_url: str,
) -> None:
    body = recorded_payload("shipment.delivered.json")
    application = webhook_application_create(settings_for(real_broker_url))

    response = post(
        Client(application), "/webhooks/carrier", body, carrier_headers(body, message_id="msg_d1")
    )
    application.publisher.close()

    assert response.status_code == 202
    [raw] = queued_envelopes(real_broker_url)
    envelope = webhook_envelope_decode(raw)
    assert (envelope.event_id, envelope.type) == ("msg_d1", "shipment.delivered")


def test_concurrent_deliveries_each_land_once(real_broker_url: str) -> None:
    """Request threads publish side by side, each on a connection of its own from the pool."""
    application = webhook_application_create(settings_for(real_broker_url))
    event_ids = [f"evt_concurrent{number:04d}" for number in range(96)]

    def deliver(event_id: str) -> int:
        body = PAYMENT_BODY.replace(b"evt_3QfK8sLkdIwHu7ix0aCy1RfM", event_id.encode())
        headers = {"Stripe-Signature": stripe_signature(body)}
        return post(Client(application), "/webhooks/payments", body, headers).status_code

    with ThreadPoolExecutor(max_workers=8) as threads:
        statuses = list(threads.map(deliver, event_ids))
    application.publisher.close()

    assert statuses == [202] * len(event_ids)
    queued = [webhook_envelope_decode(raw).event_id for raw in queued_envelopes(real_broker_url)]
    assert sorted(queued) == event_ids


def test_broker_down_answers_503_with_retry_after_and_the_retry_lands_once_it_is_back(
    broker_proxy: tuple[SwitchableBrokerProxy, str], real_broker_url: str
) -> None:
    proxy, url_through_proxy = broker_proxy
    application = webhook_application_create(settings_for(url_through_proxy))
    client = Client(application)
    # A first delivery opens the connection that the outage then breaks.
    first = PAYMENT_BODY.replace(b"evt_3QfK8sLkdIwHu7ix0aCy1RfM", b"evt_before_outage")
    assert (
        post(client, "/webhooks/payments", first, {"Stripe-Signature": stripe_signature(first)})
    ).status_code == 202

    proxy.stop()
    refused = post(
        client,
        "/webhooks/payments",
        PAYMENT_BODY,
        {"Stripe-Signature": stripe_signature(PAYMENT_BODY)},
    )
    proxy.start()
    on_queue_before_the_retry = [
        webhook_envelope_decode(raw).event_id for raw in queued_envelopes(real_broker_url)
    ]
    retried = post(
        client,
        "/webhooks/payments",
        PAYMENT_BODY,
        {"Stripe-Signature": stripe_signature(PAYMENT_BODY)},
    )
    application.publisher.close()

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert json_body(refused)["type"] == "/problems/service-unavailable"
    assert on_queue_before_the_retry == ["evt_before_outage"]
    assert retried.status_code == 202
    [raw] = queued_envelopes(real_broker_url)
    assert webhook_envelope_decode(raw).event_id == "evt_3QfK8sLkdIwHu7ix0aCy1RfM"


def test_a_broker_that_never_answers_gets_503_within_two_seconds(
    broker_proxy: tuple[SwitchableBrokerProxy, str], real_broker_url: str
) -> None:
    proxy, url_through_proxy = broker_proxy
    proxy.stall = True
    application = webhook_application_create(settings_for(url_through_proxy))

    started = time.monotonic()
    response = post(
        Client(application),
        "/webhooks/payments",
        PAYMENT_BODY,
        {"Stripe-Signature": stripe_signature(PAYMENT_BODY)},
    )
    elapsed = time.monotonic() - started
    application.publisher.close()

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert elapsed < 2.0
    proxy.stall = False  # the test's own reader may go through the relay (SQS)
    assert queued_envelopes(real_broker_url) == []


def test_a_broker_that_stops_answering_mid_publish_gets_503_within_two_seconds(
    broker_proxy: tuple[SwitchableBrokerProxy, str],
) -> None:
    proxy, url_through_proxy = broker_proxy
    application = webhook_application_create(settings_for(url_through_proxy))
    client = Client(application)
    headers = {"Stripe-Signature": stripe_signature(PAYMENT_BODY)}
    assert client.get("/readyz").status_code == 200  # the connection is open and healthy

    proxy.paused = True
    started = time.monotonic()
    response = post(client, "/webhooks/payments", PAYMENT_BODY, headers)
    elapsed = time.monotonic() - started
    proxy.paused = False
    application.publisher.close()

    # The broker may still get the message once it wakes up: the sender's retry then makes a
    # duplicate, which the monolith's inbox applies once. What must never happen is a 202.
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert elapsed < 2.0


def test_a_closed_port_answers_503_and_publishes_nothing(real_broker_url: str) -> None:
    body = recorded_payload("shipment.in_transit.json")
    with pytest.MonkeyPatch.context() as patch:
        if real_broker_url.startswith("sqs"):
            # SQS's endpoint is named by the environment, not by the URL.
            patch.setenv("AWS_ENDPOINT_URL_SQS", f"http://127.0.0.1:{closed_port()}")
            dead_url = real_broker_url
        else:
            credentials = real_broker_url.split("@")[0] + "@" if "@" in real_broker_url else ""
            scheme_and_credentials = credentials or "redis://"
            dead_url = f"{scheme_and_credentials}127.0.0.1:{closed_port()}/"
        application = webhook_application_create(settings_for(dead_url))
        response = post(Client(application), "/webhooks/carrier", body, carrier_headers(body))
        application.publisher.close()

    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert queued_envelopes(real_broker_url) == []
