"""Reading webhook envelopes and their event payloads with the contract's models.

An envelope of a type the contract does not name yet is still an envelope: it is stored
(and ignored) rather than refused, so nothing a sender delivered disappears unseen.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from tessera_contract.models.base import EventId, Timestamp, TraceContext
from tessera_contract.models.carrier import CARRIER_EVENT_TYPES, CarrierEvent
from tessera_contract.models.codec import PayloadError, payload_decode
from tessera_contract.models.payments import PAYMENT_EVENT_TYPES, PaymentEvent
from tessera_contract.webhooks import (
    UnsupportedEventTypeError,
    carrier_event_decode,
    payment_event_decode,
    webhook_envelope_decode,
)

InboxEventPayload = PaymentEvent | CarrierEvent

KNOWN_EVENT_TYPES = {"payments": PAYMENT_EVENT_TYPES, "carrier": CARRIER_EVENT_TYPES}


class ReceivedEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    """The envelope fields every message has, whatever its event type."""

    source: Literal["payments", "carrier"]
    event_id: EventId
    type: str
    received_at: Timestamp
    trace: TraceContext
    payload: dict[str, Any]

    @property
    def is_known_type(self) -> bool:
        return self.type in KNOWN_EVENT_TYPES[self.source]


def received_envelope_decode(raw: bytes) -> ReceivedEnvelope:
    """Decode a message off ``tessera.webhooks``.

    Known event types are validated in full against the contract's WebhookEnvelope; raises
    PayloadError (malformed JSON, or not a valid envelope) for anything that is not one.
    """
    envelope: ReceivedEnvelope = payload_decode(raw, ReceivedEnvelope)
    if envelope.is_known_type:
        webhook_envelope_decode(raw)
    return envelope


def inbox_payload_decode(
    *, source: str, type: str, payload: dict[str, Any]
) -> InboxEventPayload | None:
    """The stored payload as a contract event, or None for a type Tessera does not handle."""
    body = msgspec.json.encode(payload)
    try:
        if source == "payments":
            return payment_event_decode(body)
        return carrier_event_decode(body)
    except UnsupportedEventTypeError:
        return None


__all__ = [
    "InboxEventPayload",
    "PayloadError",
    "ReceivedEnvelope",
    "inbox_payload_decode",
    "received_envelope_decode",
]
