"""Applying webhook events from the inbox to their orders, once each.

The consumer takes envelopes in batches (intake.py): it records them, applies those still
waiting, and acknowledges the broker only after that committed. Each event is
applied in a savepoint of its own, so one that fails is noted (and retried by the sweep after
its backoff) without undoing the rest of its batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from tessera_contract.models.carrier import (
    ShipmentDeliveredEvent,
    ShipmentExceptionEvent,
    ShipmentInTransitEvent,
)
from tessera_contract.models.payments import (
    ChargeRefundedEvent,
    PaymentIntentPaymentFailedEvent,
    PaymentIntentSucceededEvent,
)
from tessera_runtime.telemetry.tracing import traced_span

from monolith.orders.models import Order, Payment
from monolith.orders.services import (
    PaymentReceipt,
    RefundReceipt,
    order_mark_delivered,
    order_mark_paid,
    order_mark_shipped,
    order_note_add,
    order_payment_failure_record,
    order_refund,
    orders_mark_paid,
    orders_refund,
)
from monolith.orders.state_machine import PAYMENT_TAKEN_STATUSES, OrderStatus

from .events import InboxEventPayload, inbox_payload_decode
from .metrics import inbox_outcome_count
from .models import InboxEvent, InboxStatus

logger = logging.getLogger(__name__)

SWEEP_TASK = "inbox.inbox_stuck_sweep"


def inbox_subject_of(payload: InboxEventPayload | None) -> str:
    """The payment reference or order number an event is about (how its order is found)."""
    if payload is None:
        return ""
    if isinstance(payload, PaymentIntentSucceededEvent | PaymentIntentPaymentFailedEvent):
        return payload.data.object.metadata.payment_reference
    if isinstance(payload, ChargeRefundedEvent):
        charge = payload.data.object
        reference = charge.metadata.payment_reference
        return reference if isinstance(reference, str) else charge.payment_intent
    return payload.data.order_reference


def inbox_event_take(*, event: InboxEvent, continue_trace: bool = True) -> str:
    """Apply a locked, applicable event to its order, or note why it failed; return its status.

    Call it inside a transaction holding the event's row lock (select_for_update). The order
    update runs in a savepoint: when it raises, only its own changes roll back, the attempt is
    counted, and the sweep tries again after the backoff (dead-lettered after
    INBOX_MAX_ATTEMPTS). Its span continues the webhook's trace, or with ``continue_trace``
    False is a child of the caller's span (the consumer's, which already continues it).
    """
    with traced_span(
        "run/inbox.inbox_event_apply",
        traceparent=(event.traceparent or None) if continue_trace else None,
        tracestate=(event.tracestate or None) if continue_trace else None,
        attributes={"tessera.inbox.event": str(event)},
    ):
        try:
            with transaction.atomic():
                outcome, payload = _apply_locked(event)
        except Exception as error:
            # Any error of the order update: the savepoint undid it; record it for staff.
            _failure_note(event, error)
            return str(event.status)
    if outcome == InboxStatus.APPLIED and isinstance(payload, PaymentIntentSucceededEvent):
        _parked_unpark(payment_reference=event.subject)
    return outcome


def _apply_locked(event: InboxEvent) -> tuple[str, InboxEventPayload | None]:
    payload = inbox_payload_decode(source=event.source, type=event.type, payload=event.payload)
    outcome: str
    if payload is None:
        outcome, note = InboxStatus.IGNORED, f"event type {event.type!r} is not handled"
    else:
        outcome, note = _apply(event=event, payload=payload)
    event.attempts += 1
    event.status = outcome
    event.last_error = note
    if outcome == InboxStatus.APPLIED:
        event.applied_at = timezone.now()
    event.save()
    inbox_outcome_count(source=event.source, outcome=outcome)
    return outcome, payload


def _failure_note(event: InboxEvent, error: BaseException) -> None:
    # The row lost the savepoint's changes: reload what the database holds before counting.
    event.refresh_from_db(fields=["attempts", "status", "last_error", "applied_at"])
    event.attempts += 1
    event.last_error = f"{type(error).__name__}: {error}"[:2000]
    exhausted = event.attempts >= settings.INBOX_MAX_ATTEMPTS
    event.status = InboxStatus.DEAD_LETTERED if exhausted else InboxStatus.FAILED
    event.save(update_fields=["attempts", "last_error", "status", "updated_at"])
    inbox_outcome_count(source=event.source, outcome=event.status)
    logger.warning("inbox event %s attempt %d failed: %s", event, event.attempts, error)


def _apply(*, event: InboxEvent, payload: InboxEventPayload) -> tuple[str, str]:
    """Apply a decoded event; return the inbox status it ends in and a note for staff."""
    cause = _cause(event)
    if isinstance(payload, PaymentIntentSucceededEvent):
        payment = _payment(reference=event.subject)
        if payment.order.status != OrderStatus.PENDING_PAYMENT:
            return InboxStatus.IGNORED, f"order is already {payment.order.status}"
        order_mark_paid(payment=payment, provider_payment_id=payload.data.object.id, cause=cause)
        return InboxStatus.APPLIED, ""
    if isinstance(payload, PaymentIntentPaymentFailedEvent):
        payment = _payment(reference=event.subject)
        if payment.order.status != OrderStatus.PENDING_PAYMENT:
            return InboxStatus.IGNORED, f"order is already {payment.order.status}"
        error = payload.data.object.last_payment_error
        reason = error.message if error and isinstance(error.message, str) else "declined"
        order_payment_failure_record(payment=payment, cause=f"payment failed: {reason}")
        return InboxStatus.APPLIED, ""
    if isinstance(payload, ChargeRefundedEvent):
        return _refund_apply(event=event, payload=payload, cause=cause)
    return _shipment_apply(event=event, payload=payload, cause=cause)


def _payment(*, reference: str) -> Payment:
    payment: Payment = Payment.objects.select_related("order").get(reference=reference)
    return payment


def _refund_apply(
    *, event: InboxEvent, payload: ChargeRefundedEvent, cause: str
) -> tuple[str, str]:
    charge = payload.data.object
    payment = _refunded_payment(subject=event.subject)
    if payment is None:
        # Not found, perhaps only because its payment is being applied right now (a refund
        # that names the provider's id finds no row until then): wait for that transaction,
        # which holds this lock while it looks for parked refunds, and look again. Either it
        # committed and the payment is found, or it looks after this refund parked.
        inbox_payment_subjects_lock(subjects=[event.subject])
        payment = _refunded_payment(subject=event.subject)
    if payment is not None:
        # Lock the order before deciding to park: a payment applied concurrently either
        # committed already (and is seen here) or waits for this transaction and then finds
        # the parked row when it unparks. Without the lock both could miss each other and
        # the refund would stay parked for ever.
        payment.order = Order.objects.select_for_update().get(pk=payment.order_id)
    if payment is None or payment.order.status == OrderStatus.PENDING_PAYMENT:
        # The refund overtook its payment: keep it until the payment lands.
        return InboxStatus.PARKED, "waiting for the payment to be applied"
    if payment.order.status == OrderStatus.REFUNDED:
        return InboxStatus.IGNORED, "order is already refunded"
    if payment.order.status not in PAYMENT_TAKEN_STATUSES:
        return InboxStatus.IGNORED, f"an order that is {payment.order.status} has no payment"
    if not charge.refunded or charge.amount_refunded < charge.amount:
        order_note_add(
            order=payment.order,
            cause=f"partial refund: {charge.amount_refunded} of {charge.amount} (minor units)",
        )
        return InboxStatus.APPLIED, ""
    order_refund(payment=payment, cause=cause)
    return InboxStatus.APPLIED, ""


def _refunded_payment(*, subject: str) -> Payment | None:
    payment: Payment | None = (
        Payment.objects.select_related("order")
        .filter(Q(reference=subject) | Q(provider_payment_id=subject))
        .first()
    )
    return payment


def inbox_payment_subjects_lock(*, subjects: Collection[str]) -> None:
    """Serialise parking a refund with looking for the refunds parked for its payment.

    Held to the end of the transaction (PostgreSQL's transaction-level advisory locks, one per
    subject, taken in sorted order so two holders never deadlock). A row lock cannot do this:
    a refund that names the provider's id has no row to lock until its payment is applied.
    SQLite runs one writing transaction at a time, so there the two never overlap anyway.
    """
    names = sorted({f"inbox-payment:{subject}" for subject in subjects if subject})
    if connection.vendor != "postgresql" or not names:
        return
    with connection.cursor() as cursor:
        # One statement for a whole batch's subjects, taken in the array's (sorted) order.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(name)) "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS subjects(name, position) "
            "ORDER BY position",
            [names],
        )


def _shipment_apply(
    *,
    event: InboxEvent,
    payload: ShipmentInTransitEvent | ShipmentDeliveredEvent | ShipmentExceptionEvent,
    cause: str,
) -> tuple[str, str]:
    # Locked: an in-transit and a delivered applied at the same time must see each other.
    order = Order.objects.select_for_update().get(number=event.subject)
    if isinstance(payload, ShipmentExceptionEvent):
        problem = payload.data.exception
        order_note_add(order=order, cause=f"carrier exception ({problem.code}): {problem.message}")
        return InboxStatus.APPLIED, ""
    if isinstance(payload, ShipmentInTransitEvent):
        if order.status in {OrderStatus.SHIPPED, OrderStatus.DELIVERED}:
            return InboxStatus.IGNORED, f"order is already {order.status}"
        order_mark_shipped(order=order, cause=cause)
        return InboxStatus.APPLIED, ""
    if order.status == OrderStatus.DELIVERED:
        return InboxStatus.IGNORED, "order is already delivered"
    if order.status == OrderStatus.FULFILLED:
        # Delivered overtook in transit: the parcel must have shipped, so record both steps.
        order_mark_shipped(order=order, cause=f"{cause}, before its in-transit event")
    order_mark_delivered(order=order, cause=cause)
    return InboxStatus.APPLIED, ""


def _cause(event: InboxEvent) -> str:
    """What the order's timeline says moved it."""
    return f"{event.source} webhook {event.type} ({event.event_id})"


def _parked_unpark(*, payment_reference: str) -> None:
    """Apply the refunds that overtook this payment, now that it is applied (same transaction)."""
    payment = Payment.objects.get(reference=payment_reference)
    _parked_apply(subjects=[payment_reference, payment.provider_payment_id])


def _parked_apply(*, subjects: list[str]) -> None:
    # Waiting for each row, not skipping it: the caller holds the order, so no other batch
    # applies these refunds; a row locked elsewhere is a duplicate's hit being counted, or a
    # batch that locked it in passing, and a refund skipped here would stay parked for good
    # (the sweep leaves parked rows to their payment). Locked in id order, as duplicate hits
    # are counted, so the two never deadlock; applied in the order they were received.
    # The subjects' locks first: a refund deciding to park right now either committed its
    # parked row before this looks, or waits and then finds the payment applied.
    inbox_payment_subjects_lock(subjects=subjects)
    parked = InboxEvent.objects.select_for_update().filter(
        status=InboxStatus.PARKED, subject__in=subjects
    )
    for event in sorted(parked.order_by("pk"), key=lambda e: (e.received_at, e.pk)):
        inbox_event_take(event=event)


def inbox_orders_lock(*, subjects: Collection[str], skip_held: bool) -> set[str]:
    """Lock the orders a batch's events are about, in id order, before applying any of them;
    return the subjects whose order another transaction holds (only with ``skip_held``).

    The batch's paths lock orders in orders of their own (the set-based ones by order id,
    the per-event one by subject, a parked refund when its payment lands); taking every
    lock up front, in one order, makes two workers' batches that share orders wait for each
    other instead of deadlocking (measured: 9 deadlocks, a second each, in a 2-worker drain
    of the benchmark's burst). The later locks are the transaction's own already.
    ``skip_held`` skips the orders held elsewhere (SKIP LOCKED) instead of waiting for them.
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
    locked = set(
        Order.objects.select_for_update(skip_locked=skip_held)
        .filter(pk__in=wanted)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return {name for name in names if name in order_of and order_of[name] not in locked}


def inbox_payments_take(*, events: Sequence[InboxEvent]) -> list[InboxEvent]:
    """Apply many locked `payment_intent.succeeded` events at once; return those applied.

    What inbox_event_take does to each, set-based (orders_mark_paid): a batch's payments cost
    a few statements instead of some twenty each. Only payments whose order is still pending
    are applied here; the caller takes the rest one by one, and all of them when this fails
    (the savepoint undoes it), so each event still ends applied, ignored or failed on its own.
    The refunds parked for these payments are applied with them.
    """
    receipts = []
    for event in events:
        payload = _payload_of(event, PaymentIntentSucceededEvent)
        receipts.append(
            PaymentReceipt(
                reference=event.subject,
                provider_payment_id=payload.data.object.id,
                cause=_cause(event),
            )
        )

    def apply() -> set[str]:
        paid = orders_mark_paid(receipts=receipts)
        if paid:
            providers = [r.provider_payment_id for r in receipts if r.reference in paid]
            _parked_apply(subjects=[*paid, *providers])
        return paid

    return _taken_together(events, span="run/inbox.inbox_payments_apply", apply=apply)


def inbox_refunds_take(*, events: Sequence[InboxEvent]) -> list[InboxEvent]:
    """Apply many locked `charge.refunded` events at once; return those applied.

    inbox_payments_take's counterpart (orders_refund): full refunds of orders whose payment
    was taken. A partial refund, or one whose payment has not been applied yet (it parks),
    is left to the caller's one-by-one path, as is every refund when this fails.
    """
    receipts = []
    for event in events:
        charge = _payload_of(event, ChargeRefundedEvent).data.object
        if charge.refunded and charge.amount_refunded >= charge.amount:
            receipts.append(RefundReceipt(payment=event.subject, cause=_cause(event)))
    return _taken_together(
        events, span="run/inbox.inbox_refunds_apply", apply=lambda: orders_refund(receipts=receipts)
    )


_Payload = TypeVar("_Payload", PaymentIntentSucceededEvent, ChargeRefundedEvent)


def _payload_of(event: InboxEvent, kind: type[_Payload]) -> _Payload:
    payload = inbox_payload_decode(source=event.source, type=event.type, payload=event.payload)
    if not isinstance(payload, kind):
        raise TypeError(f"{event} is not a {kind.__name__}")
    return payload


def _taken_together(
    events: Sequence[InboxEvent], *, span: str, apply: Callable[[], set[str]]
) -> list[InboxEvent]:
    """Run a set-based ``apply`` (it returns the subjects it applied) in a savepoint, and
    mark those subjects' events applied as inbox_event_take would, one statement for all.
    When it fails nothing is marked: the caller takes every event one by one."""
    with traced_span(span, attributes={"tessera.inbox.events": len(events)}):
        try:
            with transaction.atomic():
                subjects = apply()
                applied = [event for event in events if event.subject in subjects]
                now = timezone.now()
                InboxEvent.objects.filter(pk__in=[event.pk for event in applied]).update(
                    status=InboxStatus.APPLIED,
                    attempts=F("attempts") + 1,
                    last_error="",
                    applied_at=now,
                    updated_at=now,
                )
        except DatabaseError:
            logger.warning("a batch's events failed together; one by one", exc_info=True)
            return []
    for event in applied:
        inbox_outcome_count(source=event.source, outcome=InboxStatus.APPLIED)
    return applied


def inbox_retry_delay(*, attempts: int) -> timedelta:
    """Exponential backoff: base, 2×base, 4×base, …"""
    return timedelta(seconds=settings.INBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))


# A payment of the event's subject that is no longer waiting to be paid.
_payment_applied_for_subject = Payment.objects.filter(
    Q(reference=OuterRef("subject")) | Q(provider_payment_id=OuterRef("subject"))
).exclude(order__status=OrderStatus.PENDING_PAYMENT)

# Rows one sweep applies at most; the next sweep takes the rest.
SWEEP_BATCH_SIZE = 500


@transaction.atomic
def inbox_stuck_sweep() -> list[int]:
    """Apply the events that wait: failed ones past their backoff, stray received ones, and
    parked refunds whose payment has been applied.

    A failed attempt leaves its event `failed`; once its backoff has passed the sweep
    applies it again. A `received` row untouched for INBOX_SWEEP_GRACE_SECONDS (recorded
    but never applied, as by an older worker) is applied too. A parked refund waits on
    purpose for its payment and is applied with it; one still parked once its payment has
    been applied (a worker that died between the two, or a refund whose payment the inbox
    never took) is applied here. Returns the ids it took.
    """
    now = timezone.now()
    stray_before = now - timedelta(seconds=settings.INBOX_SWEEP_GRACE_SECONDS)
    # skip_locked: a row being applied right now is not stuck, and two workers sweeping at
    # once never take the same row.
    candidates = (
        InboxEvent.objects.select_for_update(skip_locked=True)
        .filter(
            Q(status=InboxStatus.FAILED)
            | Q(status=InboxStatus.RECEIVED, updated_at__lt=stray_before)
            | (Q(Exists(_payment_applied_for_subject), status=InboxStatus.PARKED) & ~Q(subject=""))
        )
        .order_by("subject", "received_at", "id")[:SWEEP_BATCH_SIZE]
    )
    due = [
        event
        for event in candidates
        if event.status != InboxStatus.FAILED
        or event.updated_at <= now - inbox_retry_delay(attempts=event.attempts)
    ]
    # Their orders locked up front in id order, as a batch's are: the two never deadlock.
    inbox_orders_lock(subjects={event.subject for event in due}, skip_held=False)
    for event in due:
        inbox_event_take(event=event)
    if due:
        logger.info("the inbox sweep applied %d waiting event(s) again", len(due))
    return [event.pk for event in due]


@transaction.atomic
def inbox_event_replay(*, inbox_event: InboxEvent) -> InboxEvent:
    """Staff replay: give a dead-lettered, failed, parked or ignored event a fresh start now."""
    event = InboxEvent.objects.select_for_update().get(pk=inbox_event.pk)
    if event.status == InboxStatus.APPLIED:
        return event
    event.status = InboxStatus.RECEIVED
    event.attempts = 0
    event.last_error = ""
    event.save(update_fields=["status", "attempts", "last_error", "updated_at"])
    inbox_event_take(event=event)
    return event
