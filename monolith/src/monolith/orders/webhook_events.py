"""What a payment provider's or a carrier's event does to its order: the rules, set-based.

The inbox records each event once and hands the events over in the order they are to be
applied, each with the cause the order's timeline will show. Here each finds its order and
the state machine decides. Events of one kind in a row are applied together, in a few
statements, through the same rules as one alone: a payment has one path, whether it came by
itself or in a batch of a hundred.

- ``payment_intent.succeeded``: a pending order becomes paid (orders_mark_paid: the payment
  succeeded, the invoice is asked for), and the refunds parked for the payment may apply.
- ``payment_intent.payment_failed``: a pending order's timeline says why; the payment failed.
- ``charge.refunded``: in full, an order whose payment was taken is refunded; in part, its
  timeline says how much. A refund that overtook its payment parks until the payment lands.
- ``shipment.in_transit``, ``shipment.delivered``: the order ships, then is delivered (both
  steps when delivered overtook in transit); ``shipment.exception`` is noted.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from django.db import transaction
from django.db.models import Q
from tessera_contract.models.carrier import (
    CarrierEvent,
    ShipmentExceptionEvent,
    ShipmentInTransitEvent,
)
from tessera_contract.models.payments import (
    ChargeRefundedEvent,
    PaymentEvent,
    PaymentIntentPaymentFailedEvent,
    PaymentIntentSucceededEvent,
)

from monolith.core.row_locks import payment_subjects_locked, row_locked, rows_locked

from .models import Order, Payment
from .services import (
    PaymentReceipt,
    RefundReceipt,
    order_mark_delivered,
    order_mark_shipped,
    order_note_add,
    order_payment_failure_record,
    orders_mark_paid,
    orders_refund,
)
from .state_machine import PAYMENT_TAKEN_STATUSES, OrderStatus

OrderEventPayload = PaymentEvent | CarrierEvent


@dataclass(frozen=True)
class OrderEvent:
    """An event for an order, and what the order's timeline is to say moved it."""

    payload: OrderEventPayload
    cause: str


@dataclass(frozen=True)
class EventOutcome:
    """What an event did: applied; parked (it waits for another event); or ignored, as there
    was nothing left to do. ``note`` says why for staff; ``wakes`` names the subjects whose
    parked events may apply now (a payment's reference and the provider's id for it)."""

    status: Literal["applied", "parked", "ignored"]
    note: str = ""
    wakes: tuple[str, ...] = ()


APPLIED = EventOutcome("applied")


def order_event_subject(payload: OrderEventPayload) -> str:
    """The payment reference or order number an event is about: how its order is found."""
    if isinstance(payload, PaymentIntentSucceededEvent | PaymentIntentPaymentFailedEvent):
        return payload.data.object.metadata.payment_reference
    if isinstance(payload, ChargeRefundedEvent):
        charge = payload.data.object
        reference = charge.metadata.payment_reference
        return reference if isinstance(reference, str) else charge.payment_intent
    return payload.data.order_reference


def order_events_lock(*, subjects: Collection[str], skip_held: bool) -> set[str]:
    """Lock the orders these subjects name, all at once (core.row_locks), before any of their
    events is applied; return the subjects whose order another transaction holds (only with
    ``skip_held``, which skips those orders instead of waiting for them).

    Each kind of event locks its orders on its way (the set-based ones by order id, a
    shipment by number, a parked refund when its payment lands); taking every lock up front,
    in one order, makes two batches that share orders wait for each other instead of
    deadlocking (measured: 9 deadlocks, a second each, in a 2-worker drain of the
    benchmark's burst). The later locks are the transaction's own already.
    """
    names = {subject for subject in subjects if subject}
    if not names:
        return set()
    order_of: dict[str, int] = {}
    for reference, provider_payment_id, order_id in Payment.objects.filter(
        Q(reference__in=names) | Q(provider_payment_id__in=names)
    ).values_list("reference", "provider_payment_id", "order_id"):
        order_of[reference] = order_of[provider_payment_id or reference] = order_id
    order_of.update(Order.objects.filter(number__in=names).values_list("number", "pk"))
    wanted = {order_of[name] for name in names if name in order_of}
    locked = {
        order.pk
        for order in rows_locked(
            Order.objects.filter(pk__in=wanted).only("pk"), skip_held=skip_held
        )
    }
    return {name for name in names if name in order_of and order_of[name] not in locked}


# No savepoint of its own (see orders_mark_paid): the caller's is the one to roll back.
@transaction.atomic(savepoint=False)
def order_events_apply(*, events: Sequence[OrderEvent]) -> list[EventOutcome]:
    """Apply events to their orders, one after the other as given; return each one's outcome.

    Neighbours of one kind are applied together, as each would be alone. An event that cannot
    be applied (its payment or order unknown, a step the state machine refuses) raises, and
    the caller's transaction undoes the lot.
    """
    outcomes: list[EventOutcome] = []
    for _, run in itertools.groupby(events, key=lambda event: type(event.payload)):
        outcomes += _run_apply(list(run))
    return outcomes


_Payload = TypeVar("_Payload", bound=OrderEventPayload)


def _of_kind(run: list[OrderEvent], kind: type[_Payload]) -> list[tuple[_Payload, str]]:
    typed: list[tuple[_Payload, str]] = []
    for event in run:
        if not isinstance(event.payload, kind):
            raise TypeError(f"{event.payload} is not a {kind.__name__}")
        typed.append((event.payload, event.cause))
    return typed


def _run_apply(run: list[OrderEvent]) -> list[EventOutcome]:
    first = run[0].payload
    if isinstance(first, PaymentIntentSucceededEvent):
        return _payments_apply(_of_kind(run, PaymentIntentSucceededEvent))
    if isinstance(first, PaymentIntentPaymentFailedEvent):
        return _payment_failures_apply(_of_kind(run, PaymentIntentPaymentFailedEvent))
    if isinstance(first, ChargeRefundedEvent):
        return _refunds_apply(_of_kind(run, ChargeRefundedEvent))
    return [_shipment_apply(payload, cause=cause) for payload, cause in _of_kind(run, type(first))]


def _payments_apply(payments: list[tuple[PaymentIntentSucceededEvent, str]]) -> list[EventOutcome]:
    receipts: dict[str, PaymentReceipt] = {}
    for payload, cause in payments:
        reference = order_event_subject(payload)
        receipts.setdefault(
            reference,
            PaymentReceipt(
                reference=reference, provider_payment_id=payload.data.object.id, cause=cause
            ),
        )
    paid = orders_mark_paid(receipts=list(receipts.values()))
    unpaid = receipts.keys() - paid
    status = dict(
        Payment.objects.filter(reference__in=unpaid).values_list("reference", "order__status")
        if unpaid
        else []
    )
    if unpaid - status.keys():
        raise Payment.DoesNotExist(f"no payment with reference {sorted(unpaid - status.keys())}")
    outcomes = []
    for payload, _ in payments:
        reference = order_event_subject(payload)
        if reference in paid:
            paid.discard(reference)  # a second event for the payment finds its order paid
            status[reference] = OrderStatus.PAID.value
            wakes = (reference, receipts[reference].provider_payment_id)
            outcomes.append(EventOutcome("applied", wakes=wakes))
        else:
            outcomes.append(EventOutcome("ignored", f"order is already {status[reference]}"))
    return outcomes


def _payment_failures_apply(
    failures: list[tuple[PaymentIntentPaymentFailedEvent, str]],
) -> list[EventOutcome]:
    outcomes = []
    for payload, _ in failures:
        payment = Payment.objects.select_related("order").get(
            reference=order_event_subject(payload)
        )
        if payment.order.status != OrderStatus.PENDING_PAYMENT:
            outcomes.append(EventOutcome("ignored", f"order is already {payment.order.status}"))
            continue
        error = payload.data.object.last_payment_error
        reason = error.message if error and isinstance(error.message, str) else "declined"
        order_payment_failure_record(payment=payment, cause=f"payment failed: {reason}")
        outcomes.append(APPLIED)
    return outcomes


def _payments_named(names: Collection[str]) -> dict[str, Payment]:
    """The payments these names (our reference, or the provider's id) name, locked with their
    orders: the order's status read here is the one the refund applies to."""
    named: dict[str, Payment] = {}
    for payment in rows_locked(
        Payment.objects.filter(Q(reference__in=names) | Q(provider_payment_id__in=names)),
        with_related="order",
    ):
        for name in (payment.reference, payment.provider_payment_id):
            if name in names:
                named[name] = payment
    return named


def _refunds_apply(refunds: list[tuple[ChargeRefundedEvent, str]]) -> list[EventOutcome]:
    subjects = [order_event_subject(payload) for payload, _ in refunds]
    payments = _payments_named({subject for subject in subjects if subject})
    missing = {subject for subject in subjects if subject not in payments}
    if missing:
        # Not found, perhaps only because its payment is being applied right now (a refund
        # that names the provider's id finds no row until then): wait for that transaction,
        # which holds this lock while it looks for parked refunds, and look again. Either it
        # committed and the payment is found, or it looks after this refund parked. The
        # order's lock, taken with the payment, settles the rest: a payment applied
        # concurrently either committed already (and is seen here) or waits for this
        # transaction and then finds the parked row when it looks.
        payment_subjects_locked(subjects=missing)
        payments.update(_payments_named(missing))
    status = {payment.pk: payment.order.status for payment in payments.values()}
    full: list[RefundReceipt] = []
    outcomes = []
    for (payload, cause), subject in zip(refunds, subjects, strict=True):
        payment = payments.get(subject)
        current = status[payment.pk] if payment is not None else None
        charge = payload.data.object
        if payment is None or current == OrderStatus.PENDING_PAYMENT:
            outcomes.append(EventOutcome("parked", "waiting for the payment to be applied"))
        elif current == OrderStatus.REFUNDED:
            outcomes.append(EventOutcome("ignored", "order is already refunded"))
        elif current not in PAYMENT_TAKEN_STATUSES:
            outcomes.append(EventOutcome("ignored", f"an order that is {current} has no payment"))
        elif not charge.refunded or charge.amount_refunded < charge.amount:
            order_note_add(
                order=payment.order,
                cause=f"partial refund: {charge.amount_refunded} of {charge.amount} (minor units)",
            )
            outcomes.append(APPLIED)
        else:
            full.append(RefundReceipt(payment=subject, cause=cause))
            status[payment.pk] = OrderStatus.REFUNDED
            outcomes.append(APPLIED)
    orders_refund(receipts=full)
    return outcomes


def _shipment_apply(payload: CarrierEvent, *, cause: str) -> EventOutcome:
    # Locked: an in-transit and a delivered applied at the same time must see each other.
    order = row_locked(Order.objects.filter(number=order_event_subject(payload)))
    if isinstance(payload, ShipmentExceptionEvent):
        problem = payload.data.exception
        order_note_add(order=order, cause=f"carrier exception ({problem.code}): {problem.message}")
        return APPLIED
    if isinstance(payload, ShipmentInTransitEvent):
        if order.status in {OrderStatus.SHIPPED, OrderStatus.DELIVERED}:
            return EventOutcome("ignored", f"order is already {order.status}")
        order_mark_shipped(order=order, cause=cause)
        return APPLIED
    if order.status == OrderStatus.DELIVERED:
        return EventOutcome("ignored", "order is already delivered")
    if order.status == OrderStatus.FULFILLED:
        # Delivered overtook in transit: the parcel must have shipped, so record both steps.
        order_mark_shipped(order=order, cause=f"{cause}, before its in-transit event")
    order_mark_delivered(order=order, cause=cause)
    return APPLIED
