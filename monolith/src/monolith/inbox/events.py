"""Reading webhook envelopes and their event payloads with the contract's models.

An envelope is decoded once on its way to the order: its event, validated against the contract
as it is taken off the queue, travels with it to the inbox's row (its subject) and to the
order it is applied to. Only an event read back from its row later (by the sweep, a staff
replay, a payment applying the refunds parked for it) is decoded again, from the row.

An envelope of a type the contract does not name yet is still an envelope: it is stored
(and ignored) rather than refused, so nothing a sender delivered disappears unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import msgspec
from tessera_contract.models.base import EventId, Timestamp, TraceContext
from tessera_contract.models.carrier import CARRIER_EVENT_TYPES, CarrierEvent
from tessera_contract.models.codec import InvalidPayloadError, PayloadError, payload_decode
from tessera_contract.models.payments import PAYMENT_EVENT_TYPES, PaymentEvent
from tessera_contract.webhooks import (
    UnsupportedEventTypeError,
    carrier_event_decode,
    payment_event_decode,
)

InboxEventPayload = PaymentEvent | CarrierEvent

KNOWN_EVENT_TYPES = {"payments": PAYMENT_EVENT_TYPES, "carrier": CARRIER_EVENT_TYPES}


class _EnvelopeFields(msgspec.Struct, frozen=True, kw_only=True):
    # The contract's WebhookEnvelope, but for an event of any type, whose payload is kept
    # as sent (the inbox stores every field, the contract's models only the ones they name).
    source: Literal["payments", "carrier"]
    event_id: EventId
    type: str
    received_at: Timestamp
    trace: TraceContext
    payload: msgspec.Raw


@dataclass(frozen=True)
class ReceivedEnvelope:
    """A message off ``tessera.webhooks``: the envelope's fields, the payload as sent (the
    inbox row's JSON), and its event as the contract reads it (None for a type Tessera does
    not handle)."""

    source: Literal["payments", "carrier"]
    event_id: str
    type: str
    received_at: datetime
    trace: TraceContext
    payload: dict[str, Any]
    event: InboxEventPayload | None


def received_envelope_decode(raw: bytes) -> ReceivedEnvelope:
    """Decode a message off ``tessera.webhooks``, validating a known type's event in full.

    Raises PayloadError (malformed JSON, not a valid envelope, or an event of a known type
    that breaks the contract) for anything that is not an envelope.
    """
    fields = payload_decode(raw, _EnvelopeFields)
    body = bytes(fields.payload)
    event = None
    if fields.type in KNOWN_EVENT_TYPES[fields.source]:
        event = _event_decode(source=fields.source, body=body)
    try:
        # The row's JSON: parsed, not read against the contract (that is ``event``).
        payload = msgspec.json.decode(body, type=dict[str, Any])
    except msgspec.ValidationError as error:
        raise InvalidPayloadError(f"the envelope's payload: {error}") from None
    return ReceivedEnvelope(
        source=fields.source,
        event_id=fields.event_id,
        type=fields.type,
        received_at=fields.received_at,
        trace=fields.trace,
        payload=payload,
        event=event,
    )


def _event_decode(*, source: str, body: bytes) -> InboxEventPayload:
    if source == "payments":
        return payment_event_decode(body)
    return carrier_event_decode(body)


def inbox_payload_decode(
    *, source: str, type: str, payload: dict[str, Any]
) -> InboxEventPayload | None:
    """An event read back from its row, as a contract event; None for a type Tessera does
    not handle."""
    if type not in KNOWN_EVENT_TYPES.get(source, ()):
        return None
    try:
        return _event_decode(source=source, body=msgspec.json.encode(payload))
    except UnsupportedEventTypeError:
        return None


__all__ = [
    "InboxEventPayload",
    "PayloadError",
    "ReceivedEnvelope",
    "inbox_payload_decode",
    "received_envelope_decode",
]
