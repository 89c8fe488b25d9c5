"""The payment provider integration: Stripe-compatible signatures, payment events."""

from collections.abc import Sequence
from datetime import datetime

from tessera_contract.models.codec import InvalidPayloadError
from tessera_contract.signing import StripeSignatureVerifier
from tessera_contract.trace_context import trace_context_continue
from tessera_contract.webhooks import (
    UnsupportedEventTypeError,
    payment_envelope_encode,
    payment_event_decode,
)

from tessera_functions.receipts import WebhookReceipt

__all__ = ["PaymentWebhookReceiver"]

# Stripe's own default tolerance, and the contract's.
TOLERANCE_SECONDS = 300


class PaymentWebhookReceiver:
    """Verifies and decodes ``POST /webhooks/payments`` deliveries."""

    def __init__(self, secrets: Sequence[str]) -> None:
        """Accept deliveries signed with any of the active ``secrets``."""
        self._verifier = StripeSignatureVerifier(secrets, tolerance_seconds=TOLERANCE_SECONDS)

    def payment_webhook_receive(
        self,
        body: bytes,
        *,
        signature: str | None,
        traceparent: str | None,
        tracestate: str | None,
        received_at: datetime,
    ) -> WebhookReceipt:
        """Verify ``body`` against ``signature`` first, then validate it into an envelope.

        Raises ``SignatureError`` (401) before anything is parsed, then ``PayloadError`` (400).
        """
        self._verifier.verify(body, signature)
        trace = trace_context_continue(traceparent, tracestate)
        try:
            event = payment_event_decode(body)
        except UnsupportedEventTypeError as unsupported:
            if unsupported.event_id is None:
                # The acknowledgement must name the event; without a valid id it is broken.
                raise InvalidPayloadError("the event has no valid id") from None
            return WebhookReceipt(unsupported.event_id, None, trace.traceparent)
        envelope = payment_envelope_encode(
            event=event, body=body, received_at=received_at, trace=trace
        )
        return WebhookReceipt(event.id, envelope, trace.traceparent)
