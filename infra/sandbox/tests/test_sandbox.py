"""The sandbox behaves like the real senders: signed webhooks, retries, bursts, safe redirects."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from sandbox_receiver import Receiver
from tessera_contract.webhooks import carrier_event_decode, payment_event_decode
from tessera_sandbox.burst import burst_run
from tessera_sandbox.delivery import WebhookSender
from tessera_sandbox.events import Checkout, payment_event_body

RETURN_URL = "http://127.0.0.1:8000/orders/8d4c0b6e-4a4f-4c8e-9d3b-0f1e2d3c4b5a/"
CHECKOUT = {
    "reference": "pay_AbCdEfGh123456",
    "amount": "25.40",
    "currency": "EUR",
    "order": "TS-0A1B2C3D4E",
    "return_url": RETURN_URL,
}


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the sandbox did not deliver in time"
        time.sleep(0.02)


def test_pay_page_shows_the_amount_with_pay_and_decline(sandbox: httpx.Client) -> None:
    response = sandbox.get("/pay", params=CHECKOUT)

    assert response.status_code == 200
    assert "25.40 EUR" in response.text
    assert 'value="succeeded">Pay</button>' in response.text
    assert 'value="declined">Decline</button>' in response.text


def test_pay_sends_a_signed_payment_webhook_and_returns_the_shopper(
    sandbox: httpx.Client, receiver: Receiver
) -> None:
    response = sandbox.post("/pay", data={**CHECKOUT, "outcome": "succeeded"})

    assert response.status_code == 303
    assert response.headers["Location"] == RETURN_URL
    wait_for(lambda: len(receiver.payments) == 1)
    event = payment_event_decode(receiver.payments[0])
    assert event.type == "payment_intent.succeeded"
    assert event.data.object.amount == 2540
    assert event.data.object.metadata.payment_reference == "pay_AbCdEfGh123456"


def test_decline_sends_a_payment_failed_webhook(sandbox: httpx.Client, receiver: Receiver) -> None:
    sandbox.post("/pay", data={**CHECKOUT, "outcome": "declined"})

    wait_for(lambda: len(receiver.payments) == 1)
    assert payment_event_decode(receiver.payments[0]).type == "payment_intent.payment_failed"


def test_return_url_off_the_allow_list_is_refused(sandbox: httpx.Client) -> None:
    response = sandbox.get("/pay", params={**CHECKOUT, "return_url": "https://evil.example/"})

    assert response.status_code == 400
    assert "return_url" in response.text


def test_server_errors_are_retried_with_backoff_until_acknowledged(
    sender: WebhookSender, receiver: Receiver
) -> None:
    receiver.script = [503, 500, 502]
    checkout = Checkout(payment_reference="pay_retry12345", amount_minor=100, currency="EUR")

    result = sender.payment_send(payment_event_body(checkout, outcome="succeeded"))

    assert result.delivered
    assert result.attempts == 4
    assert result.seconds >= 0.01 + 0.02 + 0.04  # exponential backoff between attempts
    # Every attempt, as the sender saw it; a 503 that does not say when to come back is marked.
    assert result.answers == ("503 without Retry-After", "500", "502", "202")
    assert len(receiver.payments) == 1


def test_a_503_with_retry_after_is_counted_as_a_plain_503(
    sender: WebhookSender, receiver: Receiver
) -> None:
    receiver.script = [503]
    receiver.retry_after = "2"
    checkout = Checkout(payment_reference="pay_retryafter1", amount_minor=100, currency="EUR")

    result = sender.payment_send(payment_event_body(checkout, outcome="succeeded"))

    assert result.answers == ("503", "202")


def test_client_errors_are_not_retried(sender: WebhookSender, receiver: Receiver) -> None:
    receiver.script = [400]
    checkout = Checkout(payment_reference="pay_refused1234", amount_minor=100, currency="EUR")

    result = sender.payment_send(payment_event_body(checkout, outcome="succeeded"))

    assert not result.delivered
    assert result.attempts == 1
    assert result.status_code == 400


def test_fulfilled_order_gets_in_transit_then_delivered(
    sandbox: httpx.Client, receiver: Receiver
) -> None:
    response = sandbox.post("/shipments", json={"order_reference": "TS-0A1B2C3D4E"})

    assert response.status_code == 202
    wait_for(lambda: len(receiver.carrier) == 2)
    events = [carrier_event_decode(body) for _, body in receiver.carrier]
    assert [event.type for event in events] == ["shipment.in_transit", "shipment.delivered"]
    assert {event.data.order_reference for event in events} == {"TS-0A1B2C3D4E"}
    assert len({message_id for message_id, _ in receiver.carrier}) == 2


def test_burst_sends_duplicates_and_refunds_ahead_of_payments(
    sender: WebhookSender, receiver: Receiver
) -> None:
    checkouts = [
        Checkout(payment_reference=f"pay_burst{number:06d}", amount_minor=500, currency="EUR")
        for number in range(200)
    ]

    report = burst_run(
        sender, checkouts, concurrency=8, duplicate_ratio=0.1, out_of_order_ratio=0.1, seed=7
    )

    events = [payment_event_decode(body) for body in receiver.payments]
    assert report.failed == 0
    assert report.acknowledged == report.sent == len(events)
    assert len({event.id for event in events}) == report.unique_events
    assert report.sent > report.unique_events > 200  # some duplicates, some refunds
    assert sum(event.type == "charge.refunded" for event in events) > 0
