"""The webhook hot path: decoding verified deliveries and building the envelopes to enqueue."""

import json
from datetime import UTC, datetime

import pytest
from contract_testing import fixture_bytes, schema_validator
from tessera_contract.models import (
    UNSET,
    CarrierWebhookEnvelope,
    ChargeRefundedEvent,
    InvalidPayloadError,
    MalformedPayloadError,
    PaymentIntentPaymentFailedEvent,
    PaymentIntentSucceededEvent,
    PaymentWebhookEnvelope,
    ShipmentExceptionEvent,
)
from tessera_contract.trace_context import trace_context_continue
from tessera_contract.webhooks import (
    UnsupportedEventTypeError,
    carrier_envelope_encode,
    carrier_event_decode,
    payment_envelope_encode,
    payment_event_decode,
    webhook_envelope_decode,
)

RECEIVED_AT = datetime(2026, 11, 2, 14, 31, 8, tzinfo=UTC)
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_paid_checkout_event_decodes_with_its_payment_reference() -> None:
    event = payment_event_decode(fixture_bytes("payment_intent.succeeded.json"))

    assert isinstance(event, PaymentIntentSucceededEvent)
    assert event.type == "payment_intent.succeeded"
    assert event.id == "evt_3QfK8sLkdIwHu7ix0aCy1RfM"
    assert event.data.object.metadata.payment_reference == "pay_7Hc2Qm9KxT4bR1sV"
    assert event.data.object.amount_received == 4990


def test_a_failed_payment_event_carries_the_decline_reason() -> None:
    event = payment_event_decode(fixture_bytes("payment_intent.payment_failed.json"))

    assert isinstance(event, PaymentIntentPaymentFailedEvent)
    assert event.data.object.last_payment_error is not None
    assert event.data.object.last_payment_error is not UNSET
    assert event.data.object.last_payment_error.decline_code == "insufficient_funds"


def test_a_refund_event_points_at_its_payment_intent() -> None:
    event = payment_event_decode(fixture_bytes("charge.refunded.json"))

    assert isinstance(event, ChargeRefundedEvent)
    assert event.data.object.payment_intent == "pi_3QfK8sLkdIwHu7ix0N3hJqPd"
    assert event.data.object.refunded is True


def test_an_unhandled_payment_event_type_is_reported_as_unsupported_with_its_id() -> None:
    with pytest.raises(UnsupportedEventTypeError) as raised:
        payment_event_decode(fixture_bytes("customer.created.json"))

    assert raised.value.event_type == "customer.created"
    assert raised.value.event_id == "evt_1QfKBcLkdIwHu7ix3dFb4UiP"


def test_a_handled_payment_event_with_a_broken_field_is_invalid_not_unsupported() -> None:
    payload = json.loads(fixture_bytes("payment_intent.succeeded.json"))
    payload["data"]["object"]["amount"] = "49.90"

    with pytest.raises(InvalidPayloadError) as raised:
        payment_event_decode(json.dumps(payload).encode())

    assert not isinstance(raised.value, UnsupportedEventTypeError)
    assert "$.data.object.amount" in str(raised.value)


def test_a_body_that_is_not_json_is_malformed() -> None:
    with pytest.raises(MalformedPayloadError):
        payment_event_decode(b"t=1,v1=abc")


def test_a_carrier_exception_event_decodes_with_its_reason() -> None:
    event = carrier_event_decode(fixture_bytes("shipment.exception.json"))

    assert isinstance(event, ShipmentExceptionEvent)
    assert event.data.exception.code == "address_issue"
    assert event.data.order_reference == "TS-2026-000125"


def test_an_unhandled_carrier_event_type_is_reported_as_unsupported() -> None:
    with pytest.raises(UnsupportedEventTypeError) as raised:
        carrier_event_decode(fixture_bytes("shipment.returned.json"))

    assert raised.value.event_type == "shipment.returned"


def test_a_carrier_exception_without_its_reason_is_invalid() -> None:
    payload = json.loads(fixture_bytes("shipment.exception.json"))
    del payload["data"]["exception"]

    with pytest.raises(InvalidPayloadError, match="exception"):
        carrier_event_decode(json.dumps(payload).encode())


def test_payment_envelope_keeps_the_body_as_received_and_conforms_to_the_contract() -> None:
    body = fixture_bytes("payment_intent.succeeded.json")
    event = payment_event_decode(body)

    raw = payment_envelope_encode(
        event=event, body=body, received_at=RECEIVED_AT, trace=trace_context_continue(TRACEPARENT)
    )

    message = json.loads(raw)
    schema_validator("webhook-envelope.json").validate(message)
    assert message["payload"] == json.loads(body)  # fields unknown to the contract survive
    assert message["source"] == "payments"
    assert message["event_id"] == event.id
    assert message["type"] == "payment_intent.succeeded"
    envelope = webhook_envelope_decode(raw)
    assert isinstance(envelope, PaymentWebhookEnvelope)
    assert envelope.payload == event
    assert envelope.trace.traceparent == TRACEPARENT


def test_carrier_envelope_uses_the_webhook_id_as_event_id() -> None:
    body = fixture_bytes("shipment.delivered.json")
    event = carrier_event_decode(body)

    raw = carrier_envelope_encode(
        event=event,
        body=body,
        event_id="msg_2vXq8cN1aB7d",
        received_at=RECEIVED_AT,
        trace=trace_context_continue(None),
    )

    schema_validator("webhook-envelope.json").validate(json.loads(raw))
    envelope = webhook_envelope_decode(raw)
    assert isinstance(envelope, CarrierWebhookEnvelope)
    assert envelope.event_id == "msg_2vXq8cN1aB7d"
    assert envelope.received_at == RECEIVED_AT


def test_carrier_envelope_refuses_a_webhook_id_outside_the_contract() -> None:
    body = fixture_bytes("shipment.delivered.json")

    with pytest.raises(InvalidPayloadError):
        carrier_envelope_encode(
            event=carrier_event_decode(body),
            body=body,
            event_id="msg with spaces",
            received_at=RECEIVED_AT,
            trace=trace_context_continue(None),
        )


def test_envelope_refuses_a_naive_receive_time() -> None:
    body = fixture_bytes("shipment.delivered.json")

    with pytest.raises(ValueError, match="timezone"):
        carrier_envelope_encode(
            event=carrier_event_decode(body),
            body=body,
            event_id="msg_1",
            received_at=datetime(2026, 11, 2, 14, 31, 8),  # noqa: DTZ001 - the point of the test
            trace=trace_context_continue(None),
        )


def test_an_envelope_whose_payload_does_not_match_its_source_is_invalid() -> None:
    raw = payment_envelope_encode(
        event=payment_event_decode(fixture_bytes("payment_intent.succeeded.json")),
        body=fixture_bytes("payment_intent.succeeded.json"),
        received_at=RECEIVED_AT,
        trace=trace_context_continue(None),
    )
    message = json.loads(raw)
    message["payload"] = json.loads(fixture_bytes("shipment.delivered.json"))

    with pytest.raises(InvalidPayloadError):
        webhook_envelope_decode(json.dumps(message).encode())


def test_trace_context_continues_a_valid_incoming_trace_with_its_state() -> None:
    context = trace_context_continue(TRACEPARENT, "vendor=abc")

    assert context.traceparent == TRACEPARENT
    assert context.tracestate == "vendor=abc"


@pytest.mark.parametrize(
    "incoming",
    [
        None,
        "",
        "garbage",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    ],
)
def test_trace_context_starts_a_new_trace_when_the_incoming_one_is_unusable(
    incoming: str | None,
) -> None:
    first = trace_context_continue(incoming, "vendor=abc")
    second = trace_context_continue(incoming)

    assert first.traceparent != incoming
    assert first.traceparent.startswith("00-")
    assert first.tracestate is UNSET
    assert first.traceparent.split("-")[1] != second.traceparent.split("-")[1]
