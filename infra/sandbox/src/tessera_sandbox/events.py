"""Event bodies as the real senders shape them (Stripe's events, the carrier's updates)."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

PaymentOutcome = Literal["succeeded", "declined"]


def provider_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass(frozen=True)
class Checkout:
    """What the monolith sent the shopper to the pay page with."""

    payment_reference: str
    amount_minor: int
    currency: str
    order_number: str = ""

    @property
    def payment_intent_id(self) -> str:
        # Stable per reference, as the provider keeps one intent per checkout.
        return "pi_" + "".join(ch if ch.isalnum() else "_" for ch in self.payment_reference)


def _event(event_type: str, data_object: dict[str, Any], event_id: str | None) -> bytes:
    return json.dumps(
        {
            "id": event_id or provider_id("evt"),
            "object": "event",
            "type": event_type,
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": data_object},
        }
    ).encode()


def payment_event_body(
    checkout: Checkout, *, outcome: PaymentOutcome, event_id: str | None = None
) -> bytes:
    """A `payment_intent.succeeded` or `payment_intent.payment_failed` event."""
    metadata = {"payment_reference": checkout.payment_reference}
    if checkout.order_number:
        metadata["order_number"] = checkout.order_number
    intent: dict[str, Any] = {
        "id": checkout.payment_intent_id,
        "object": "payment_intent",
        "amount": checkout.amount_minor,
        "amount_received": checkout.amount_minor if outcome == "succeeded" else 0,
        "currency": checkout.currency.lower(),
        "status": "succeeded" if outcome == "succeeded" else "requires_payment_method",
        "metadata": metadata,
    }
    if outcome == "declined":
        intent["last_payment_error"] = {
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": "Your card was declined.",
        }
        return _event("payment_intent.payment_failed", intent, event_id)
    return _event("payment_intent.succeeded", intent, event_id)


def refund_event_body(checkout: Checkout, *, event_id: str | None = None) -> bytes:
    """A full `charge.refunded` event for the checkout's payment."""
    charge = {
        "id": provider_id("ch"),
        "object": "charge",
        "amount": checkout.amount_minor,
        "amount_refunded": checkout.amount_minor,
        "currency": checkout.currency.lower(),
        "payment_intent": checkout.payment_intent_id,
        "refunded": True,
        "metadata": {"payment_reference": checkout.payment_reference},
    }
    return _event("charge.refunded", charge, event_id)


ShipmentEventType = Literal["shipment.in_transit", "shipment.delivered"]


def shipment_event_body(
    *, event_type: ShipmentEventType, order_reference: str, tracking_number: str
) -> bytes:
    """A carrier tracking update in the Standard Webhooks payload shape."""
    now = datetime.now(UTC).isoformat()
    location = {"city": "Amsterdam", "country_code": "NL"}
    return json.dumps(
        {
            "type": event_type,
            "timestamp": now,
            "data": {
                "tracking_number": tracking_number,
                "carrier": "sandbox",
                "order_reference": order_reference,
                "occurred_at": now,
                "location": location,
            },
        }
    ).encode()
