"""Writes to the webhook inbox: record a queued envelope once, apply it to its order once.

Recording and applying are separate steps. The consumer records in one short transaction
and acknowledges the broker message only after it committed; applying runs as a Celery task
scheduled after that commit, so a slow or failing order update never holds the queue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
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

from monolith.core.after_commit import enqueue_after_commit
from monolith.orders.models import Order, Payment
from monolith.orders.services import (
    order_mark_delivered,
    order_mark_paid,
    order_mark_shipped,
    order_note_add,
    order_payment_failure_record,
    order_refund,
)
from monolith.orders.state_machine import PAYMENT_TAKEN_STATUSES, OrderStatus

from .events import InboxEventPayload, inbox_payload_decode, received_envelope_decode
from .metrics import inbox_outcome_count
from .models import InboxEvent, InboxStatus

logger = logging.getLogger(__name__)

# Queued by name (core/after_commit.py): the tasks module imports this one.
APPLY_TASK = "inbox.inbox_event_apply"


@dataclass(frozen=True)
class InboxRecordResult:
    event: InboxEvent
    duplicate: bool


def _inbox_apply_schedule(event_id: int) -> None:
    # A lost enqueue leaves the event received; the stuck sweep applies it.
    enqueue_after_commit(APPLY_TASK, event_id)


def _subject_of(payload: InboxEventPayload | None) -> str:
    if payload is None:
        return ""
    if isinstance(payload, PaymentIntentSucceededEvent | PaymentIntentPaymentFailedEvent):
        return payload.data.object.metadata.payment_reference
    if isinstance(payload, ChargeRefundedEvent):
        charge = payload.data.object
        reference = charge.metadata.payment_reference
        return reference if isinstance(reference, str) else charge.payment_intent
    return payload.data.order_reference


def inbox_event_record(*, raw: bytes) -> InboxRecordResult:
    """Store a queued webhook envelope once, and schedule its application after commit.

    A second delivery of the same (source, event id) is counted as a duplicate hit and not
    applied again. Raises the contract's InvalidPayloadError for a message that is not an
    envelope (the caller rejects it: redelivering it would never help).
    """
    envelope = received_envelope_decode(raw)
    payload = inbox_payload_decode(
        source=envelope.source, type=envelope.type, payload=envelope.payload
    )
    tracestate = envelope.trace.tracestate
    try:
        with transaction.atomic():
            event = InboxEvent.objects.create(
                source=envelope.source,
                event_id=envelope.event_id,
                type=envelope.type,
                received_at=envelope.received_at,
                payload=envelope.payload,
                traceparent=envelope.trace.traceparent,
                tracestate=tracestate if isinstance(tracestate, str) else "",
                subject=_subject_of(payload),
            )
            _inbox_apply_schedule(event.pk)
    except IntegrityError:
        with transaction.atomic():
            InboxEvent.objects.filter(source=envelope.source, event_id=envelope.event_id).update(
                duplicate_hits=F("duplicate_hits") + 1, updated_at=timezone.now()
            )
            event = InboxEvent.objects.get(source=envelope.source, event_id=envelope.event_id)
            if event.status == InboxStatus.RECEIVED:
                # A redelivery after the first scheduling was lost (the worker died between
                # commit and publish): schedule again; applying is idempotent.
                _inbox_apply_schedule(event.pk)
        inbox_outcome_count(source=envelope.source, outcome="duplicate")
        return InboxRecordResult(event=event, duplicate=True)
    inbox_outcome_count(source=envelope.source, outcome="recorded")
    return InboxRecordResult(event=event, duplicate=False)


@transaction.atomic
def inbox_event_apply(*, inbox_event_id: int) -> InboxEvent:
    """Apply one recorded event to its order through the order services, at most once.

    Events already applied, ignored or dead-lettered are left alone, so a task delivered twice
    does nothing the second time. Raises whatever the order update raised; the caller
    records the failure (inbox_event_failure_record) and retries.
    """
    event = InboxEvent.objects.select_for_update().get(pk=inbox_event_id)
    if event.status not in {InboxStatus.RECEIVED, InboxStatus.FAILED, InboxStatus.PARKED}:
        return event
    payload = inbox_payload_decode(source=event.source, type=event.type, payload=event.payload)
    event.attempts += 1
    outcome: str
    if payload is None:
        outcome, note = InboxStatus.IGNORED, f"event type {event.type!r} is not handled"
    else:
        outcome, note = _apply(event=event, payload=payload)
    event.status = outcome
    event.last_error = note
    if outcome == InboxStatus.APPLIED:
        event.applied_at = timezone.now()
    event.save()
    inbox_outcome_count(source=event.source, outcome=outcome)
    if outcome == InboxStatus.APPLIED and isinstance(payload, PaymentIntentSucceededEvent):
        _parked_unpark(payment_reference=event.subject)
    return event


def _apply(*, event: InboxEvent, payload: InboxEventPayload) -> tuple[str, str]:
    """Apply a decoded event; return the inbox status it ends in and a note for staff."""
    cause = f"{event.source} webhook {event.type} ({event.event_id})"
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
    payment = (
        Payment.objects.select_related("order")
        .filter(Q(reference=event.subject) | Q(provider_payment_id=event.subject))
        .first()
    )
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


def _parked_unpark(*, payment_reference: str) -> None:
    payment = Payment.objects.get(reference=payment_reference)
    subjects = [payment_reference, payment.provider_payment_id]
    parked = InboxEvent.objects.filter(status=InboxStatus.PARKED, subject__in=subjects)
    for event_id in parked.values_list("pk", flat=True):
        _inbox_apply_schedule(event_id)


def inbox_retry_delay(*, attempts: int) -> timedelta:
    """Exponential backoff: base, 2×base, 4×base, …"""
    return timedelta(seconds=settings.INBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))


@transaction.atomic
def inbox_event_failure_record(*, inbox_event_id: int, error: BaseException) -> InboxEvent:
    """Count a failed attempt; after INBOX_MAX_ATTEMPTS the event is dead-lettered."""
    event = InboxEvent.objects.select_for_update().get(pk=inbox_event_id)
    event.attempts += 1
    event.last_error = f"{type(error).__name__}: {error}"[:2000]
    exhausted = event.attempts >= settings.INBOX_MAX_ATTEMPTS
    event.status = InboxStatus.DEAD_LETTERED if exhausted else InboxStatus.FAILED
    event.save(update_fields=["attempts", "last_error", "status", "updated_at"])
    inbox_outcome_count(source=event.source, outcome=event.status)
    logger.warning("inbox event %s attempt %d failed: %s", event, event.attempts, error)
    return event


# Rows one sweep re-queues at most; the next sweep takes the rest.
SWEEP_BATCH_SIZE = 500


@transaction.atomic
def inbox_stuck_sweep() -> list[int]:
    """Queue again the application of events whose scheduled task was lost; return their ids.

    Recording commits the row and then queues its task; a worker that dies in between leaves
    the row `received` with nothing queued, and a retry the broker lost leaves it `failed`.
    Rows untouched for INBOX_SWEEP_GRACE_SECONDS (a failed one: plus its backoff) are queued
    again. Applying is idempotent, so a task that was only slow, not lost, costs one no-op;
    `updated_at` is bumped so a long queue is not re-queued on every sweep. Parked rows wait
    on purpose and are left alone.
    """
    now = timezone.now()
    settled_before = now - timedelta(seconds=settings.INBOX_SWEEP_GRACE_SECONDS)
    waiting = {InboxStatus.RECEIVED, InboxStatus.FAILED}
    # skip_locked: a row being applied right now is not stuck, and two workers sweeping at
    # once never queue the same row twice.
    candidates = (
        InboxEvent.objects.select_for_update(skip_locked=True)
        .filter(status__in=waiting, updated_at__lt=settled_before)
        .order_by("updated_at")
        .only("pk", "status", "attempts", "updated_at")[:SWEEP_BATCH_SIZE]
    )
    stuck = [
        event.pk
        for event in candidates
        if event.status != InboxStatus.FAILED
        or event.updated_at < settled_before - inbox_retry_delay(attempts=event.attempts)
    ]
    if stuck:
        InboxEvent.objects.filter(pk__in=stuck).update(updated_at=now)
        for event_id in stuck:
            _inbox_apply_schedule(event_id)
        logger.warning("re-queued %d inbox event(s) whose application was lost", len(stuck))
    return stuck


@transaction.atomic
def inbox_event_replay(*, inbox_event: InboxEvent) -> InboxEvent:
    """Staff replay: give a dead-lettered, failed, parked or ignored event a fresh start."""
    event = InboxEvent.objects.select_for_update().get(pk=inbox_event.pk)
    if event.status == InboxStatus.APPLIED:
        return event
    event.status = InboxStatus.RECEIVED
    event.attempts = 0
    event.last_error = ""
    event.save(update_fields=["status", "attempts", "last_error", "updated_at"])
    _inbox_apply_schedule(event.pk)
    return event
