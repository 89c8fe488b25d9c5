"""The webhook hot path: decode a verified delivery, and build the envelope to enqueue.

A webhook function verifies the signature over the raw body first (``tessera_contract.signing``),
then calls the decoder here, then publishes the envelope. Only msgspec is imported, so this
module is cheap to load on a cold start.
"""

from datetime import datetime
from typing import Literal

import msgspec

from tessera_contract.models.base import EVENT_ID_PATTERN, UNSET, TraceContext, UnsetType
from tessera_contract.models.carrier import CARRIER_EVENT_TYPES, CarrierEvent
from tessera_contract.models.codec import InvalidPayloadError, payload_decode, payload_encode
from tessera_contract.models.envelopes import WebhookEnvelope
from tessera_contract.models.payments import PAYMENT_EVENT_TYPES, PaymentEvent

__all__ = [
    "UnsupportedEventTypeError",
    "carrier_envelope_encode",
    "carrier_event_decode",
    "payment_envelope_encode",
    "payment_event_decode",
    "webhook_envelope_decode",
]


class UnsupportedEventTypeError(InvalidPayloadError):
    """A well-formed event of a type Tessera does not handle.

    Endpoints acknowledge these with 202 and status 'ignored' instead of 400, so that the
    sender stops retrying an event nobody will ever process.
    """

    def __init__(self, event_type: str, event_id: str | None) -> None:
        super().__init__(f"event type {event_type!r} is not handled")
        self.event_type = event_type
        self.event_id = event_id


class _EventTypeProbe(msgspec.Struct):
    # Read only when full decoding failed, to tell "unknown type" from "broken payload".
    type: str
    id: str | UnsetType = UNSET


def _unsupported_type_or_none(
    body: bytes, supported: frozenset[str]
) -> UnsupportedEventTypeError | None:
    try:
        probe = msgspec.json.decode(body, type=_EventTypeProbe)
    except msgspec.MsgspecError:
        return None
    if probe.type in supported:
        return None
    event_id = probe.id if isinstance(probe.id, str) and EVENT_ID_PATTERN.match(probe.id) else None
    return UnsupportedEventTypeError(probe.type, event_id)


def payment_event_decode(body: bytes) -> PaymentEvent:
    """Decode and validate a verified ``/webhooks/payments`` body.

    Raises :class:`UnsupportedEventTypeError` for a valid event of another type, and
    :class:`~tessera_contract.models.codec.PayloadError` for anything else that does not fit.
    """
    try:
        event: PaymentEvent = payload_decode(body, PaymentEvent)
    except InvalidPayloadError:
        unsupported = _unsupported_type_or_none(body, PAYMENT_EVENT_TYPES)
        if unsupported is not None:
            raise unsupported from None
        raise
    return event


def carrier_event_decode(body: bytes) -> CarrierEvent:
    """Decode and validate a verified ``/webhooks/carrier`` body.

    Raises :class:`UnsupportedEventTypeError` for a valid event of another type, and
    :class:`~tessera_contract.models.codec.PayloadError` for anything else that does not fit.
    """
    try:
        event: CarrierEvent = payload_decode(body, CarrierEvent)
    except InvalidPayloadError:
        unsupported = _unsupported_type_or_none(body, CARRIER_EVENT_TYPES)
        if unsupported is not None:
            raise unsupported from None
        raise
    return event


class _EnvelopeOut(msgspec.Struct, kw_only=True):
    # The payload is embedded as the verified bytes, so the inbox keeps every field the
    # sender sent (the models drop fields the contract does not name).
    source: Literal["payments", "carrier"]
    event_id: str
    type: str
    received_at: datetime
    trace: TraceContext
    payload: msgspec.Raw


def payment_envelope_encode(
    *, event: PaymentEvent, body: bytes, received_at: datetime, trace: TraceContext
) -> bytes:
    """Build the queue message for a verified payment event.

    ``event`` must be ``payment_event_decode(body)``: asking for both makes it impossible to
    enqueue a body that was never validated, while the envelope still carries the body as
    received.
    """
    return _envelope_encode(
        source="payments",
        event_id=event.id,
        event_type=event.type,
        body=body,
        received_at=received_at,
        trace=trace,
    )


def carrier_envelope_encode(
    *,
    event: CarrierEvent,
    body: bytes,
    event_id: str,
    received_at: datetime,
    trace: TraceContext,
) -> bytes:
    """Build the queue message for a verified carrier event.

    ``event_id`` is the delivery's ``webhook-id`` header; ``event`` must be
    ``carrier_event_decode(body)``.
    """
    if not EVENT_ID_PATTERN.match(event_id):
        raise InvalidPayloadError("webhook-id is not a valid event id")
    return _envelope_encode(
        source="carrier",
        event_id=event_id,
        event_type=event.type,
        body=body,
        received_at=received_at,
        trace=trace,
    )


def _envelope_encode(
    *,
    source: Literal["payments", "carrier"],
    event_id: str,
    event_type: str,
    body: bytes,
    received_at: datetime,
    trace: TraceContext,
) -> bytes:
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    envelope = _EnvelopeOut(
        source=source,
        event_id=event_id,
        type=event_type,
        received_at=received_at,
        trace=trace,
        payload=msgspec.Raw(body),
    )
    return payload_encode(envelope)


def webhook_envelope_decode(raw: bytes) -> WebhookEnvelope:
    """Decode and validate a webhook envelope taken off the queue (the monolith's side)."""
    envelope: WebhookEnvelope = payload_decode(raw, WebhookEnvelope)
    return envelope
