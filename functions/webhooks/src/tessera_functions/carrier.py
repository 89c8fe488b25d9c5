"""The carrier integration: Standard Webhooks signatures, shipment tracking events."""

from collections.abc import Mapping, Sequence
from datetime import datetime

from tessera_contract.models.base import EVENT_ID_PATTERN
from tessera_contract.models.codec import InvalidPayloadError
from tessera_contract.signing import StandardWebhookVerifier
from tessera_contract.trace_context import trace_context_continue
from tessera_contract.webhooks import (
    UnsupportedEventTypeError,
    carrier_envelope_encode,
    carrier_event_decode,
)

from tessera_functions.receipts import WebhookReceipt

__all__ = ["CarrierWebhookReceiver"]

TOLERANCE_SECONDS = 300


class CarrierWebhookReceiver:
    """Verifies and decodes ``POST /webhooks/carrier`` deliveries."""

    def __init__(self, secrets: Sequence[str]) -> None:
        """Accept deliveries signed with any of the active ``secrets`` (``whsec_<base64>``)."""
        self._verifier = StandardWebhookVerifier(secrets, tolerance_seconds=TOLERANCE_SECONDS)

    def carrier_webhook_receive(
        self,
        body: bytes,
        *,
        headers: Mapping[str, str],
        traceparent: str | None,
        tracestate: str | None,
        received_at: datetime,
    ) -> WebhookReceipt:
        """Verify the ``webhook-*`` headers over ``body`` first, then build the envelope.

        The delivery's ``webhook-id`` is the event id the monolith deduplicates on. Raises
        ``SignatureError`` (401) before anything is parsed, then ``PayloadError`` (400).
        """
        delivery = self._verifier.verify(body, headers)
        if not EVENT_ID_PATTERN.match(delivery.message_id):
            raise InvalidPayloadError("webhook-id is not a valid event id")
        trace = trace_context_continue(traceparent, tracestate)
        try:
            event = carrier_event_decode(body)
        except UnsupportedEventTypeError:
            return WebhookReceipt(delivery.message_id, None, trace.traceparent)
        envelope = carrier_envelope_encode(
            event=event,
            body=body,
            event_id=delivery.message_id,
            received_at=received_at,
            trace=trace,
        )
        return WebhookReceipt(delivery.message_id, envelope, trace.traceparent)
