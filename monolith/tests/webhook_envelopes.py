"""Builders for queued webhook envelopes, shaped as the webhook functions publish them."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

from monolith.inbox.models import InboxEvent
from monolith.orders.models import Order, Payment

_sequence = itertools.count(1)
TRACE = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}


def inbox_event_of(raw: bytes) -> InboxEvent:
    """The inbox's row for this envelope's event, as stored now."""
    sent = json.loads(raw)
    return InboxEvent.objects.get(source=sent["source"], event_id=sent["event_id"])


def _minor(payment: Payment) -> int:
    return int(payment.amount * 100)


def envelope(*, source: str, event_type: str, payload: dict[str, Any], event_id: str) -> bytes:
    return json.dumps(
        {
            "source": source,
            "event_id": event_id,
            "type": event_type,
            "received_at": datetime.now(UTC).isoformat(),
            "trace": TRACE,
            "payload": payload,
        }
    ).encode()


def payment_event(
    payment: Payment, *, event_type: str = "payment_intent.succeeded", event_id: str | None = None
) -> bytes:
    event_id = event_id or f"evt_test{next(_sequence)}"
    failed = event_type == "payment_intent.payment_failed"
    intent: dict[str, Any] = {
        "id": f"pi_{payment.reference.replace('-', '_')}",
        "object": "payment_intent",
        "amount": _minor(payment),
        "amount_received": 0 if failed else _minor(payment),
        "currency": payment.currency.lower(),
        "status": "requires_payment_method" if failed else "succeeded",
        "metadata": {"payment_reference": payment.reference, "order_number": payment.order.number},
    }
    if failed:
        intent["last_payment_error"] = {
            "code": "card_declined",
            "message": "Your card was declined.",
        }
    payload = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": 1_700_000_000,
        "livemode": False,
        "data": {"object": intent},
    }
    return envelope(source="payments", event_type=event_type, payload=payload, event_id=event_id)


def refund_event(
    payment: Payment,
    *,
    event_id: str | None = None,
    refunded_minor: int | None = None,
    by_provider_id: bool = False,
) -> bytes:
    """A `charge.refunded` event: in full unless ``refunded_minor`` says less; naming the
    payment by our reference, or with ``by_provider_id`` by the provider's id only."""
    event_id = event_id or f"evt_test{next(_sequence)}"
    refunded = _minor(payment) if refunded_minor is None else refunded_minor
    payload = {
        "id": event_id,
        "object": "event",
        "type": "charge.refunded",
        "created": 1_700_000_000,
        "livemode": False,
        "data": {
            "object": {
                "id": f"ch_test{next(_sequence)}",
                "object": "charge",
                "amount": _minor(payment),
                "amount_refunded": refunded,
                "currency": payment.currency.lower(),
                "payment_intent": f"pi_{payment.reference.replace('-', '_')}",
                "refunded": refunded == _minor(payment),
                "metadata": {} if by_provider_id else {"payment_reference": payment.reference},
            }
        },
    }
    return envelope(
        source="payments", event_type="charge.refunded", payload=payload, event_id=event_id
    )


def shipment_event(order: Order, *, event_type: str, event_id: str | None = None) -> bytes:
    event_id = event_id or f"msg_test{next(_sequence)}"
    now = datetime.now(UTC).isoformat()
    data: dict[str, Any] = {
        "tracking_number": f"TRK-{order.number}",
        "carrier": "sandbox",
        "order_reference": order.number,
        "occurred_at": now,
    }
    if event_type == "shipment.exception":
        data["exception"] = {"code": "delayed", "message": "Held at the depot"}
    payload = {"type": event_type, "timestamp": now, "data": data}
    return envelope(source="carrier", event_type=event_type, payload=payload, event_id=event_id)
