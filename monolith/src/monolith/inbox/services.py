"""Applying webhook events from the inbox to their orders, once each.

The consumer takes envelopes in batches (intake.py): it records them, applies those still
waiting, and acknowledges the broker only after that committed. What an event does to its
order is the orders app's business (orders/webhook_events.py); the inbox decides when each
event is applied, in which order and with which others, and records what became of it.
Events are applied in a savepoint per group (a batch's payments together, or one event
alone): when a group fails, each of its events is taken again alone, so one that fails is
noted (and retried by the sweep after its backoff) without undoing the rest of its batch.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from tessera_runtime.telemetry.tracing import traced_span

from monolith.core.row_locks import payment_subjects_locked, row_locked, rows_locked
from monolith.orders.models import Payment
from monolith.orders.state_machine import OrderStatus
from monolith.orders.webhook_events import OrderEvent, order_events_apply, order_events_lock

from .events import InboxEventPayload, inbox_payload_decode
from .metrics import inbox_outcome_count
from .models import InboxEvent, InboxStatus

logger = logging.getLogger(__name__)

SWEEP_TASK = "inbox.inbox_stuck_sweep"

# Events decoded already, by id (the intake's, as they came off the queue); any other event
# is decoded from its row.
Decoded = Mapping[int, InboxEventPayload | None]


def inbox_events_take(
    *, events: Sequence[InboxEvent], span: str, decoded: Decoded | None = None
) -> dict[int, str]:
    """Apply locked, applicable events together, in the order given (orders'
    order_events_apply, in one savepoint); return each one's inbox status, by id.

    Call it inside a transaction holding the events' row locks (core.row_locks). When the
    group fails, the savepoint undid it and each event is taken again alone
    (inbox_event_take), so each still ends applied, parked, ignored or failed by itself. The
    refunds parked for the payments applied are applied after them.
    """
    if len(events) == 1:
        return {events[0].pk: inbox_event_take(event=events[0], decoded=decoded)}
    with traced_span(span, attributes={"tessera.inbox.events": len(events)}):
        try:
            statuses, wakes = _apply(events, decoded)
        except Exception:
            logger.warning("a batch's events failed together; one by one", exc_info=True)
            return {event.pk: inbox_event_take(event=event, decoded=decoded) for event in events}
    _parked_apply(subjects=wakes)
    return statuses


def inbox_event_take(
    *, event: InboxEvent, decoded: Decoded | None = None, continue_trace: bool = True
) -> str:
    """Apply one locked, applicable event to its order, or note why it failed; return its
    status.

    inbox_events_take for one event, whose failure is its own: when the order update raises,
    the savepoint undid it, the attempt is counted, and the sweep tries again after the
    backoff (dead-lettered after INBOX_MAX_ATTEMPTS). Its span continues the webhook's trace,
    or with ``continue_trace`` False is a child of the caller's span (the consumer's, which
    already continues it).
    """
    with traced_span(
        "run/inbox.inbox_event_apply",
        traceparent=(event.traceparent or None) if continue_trace else None,
        tracestate=(event.tracestate or None) if continue_trace else None,
        attributes={"tessera.inbox.event": str(event)},
    ):
        try:
            statuses, wakes = _apply([event], decoded)
        except Exception as error:
            # Any error of the order update: the savepoint undid it; record it for staff.
            _failure_note(event, error)
            return str(event.status)
    _parked_apply(subjects=wakes)
    return statuses[event.pk]


def _apply(
    events: Sequence[InboxEvent], decoded: Decoded | None
) -> tuple[dict[int, str], list[str]]:
    """Apply events in a savepoint and record what became of each; return their statuses and
    the subjects whose parked events may apply now."""
    with transaction.atomic():
        payloads = [_payload(event, decoded) for event in events]
        known = [
            (event, payload)
            for event, payload in zip(events, payloads, strict=True)
            if payload is not None
        ]
        outcomes = order_events_apply(
            events=[OrderEvent(payload=payload, cause=_cause(event)) for event, payload in known]
        )
        results = {
            event.pk: (InboxStatus.IGNORED, f"event type {event.type!r} is not handled")
            for event, payload in zip(events, payloads, strict=True)
            if payload is None
        }
        for (event, _), outcome in zip(known, outcomes, strict=True):
            results[event.pk] = (InboxStatus(outcome.status), outcome.note)
        _outcomes_record(events, results)
    wakes = [subject for outcome in outcomes for subject in outcome.wakes]
    return {pk: str(status) for pk, (status, _) in results.items()}, wakes


def _payload(event: InboxEvent, decoded: Decoded | None) -> InboxEventPayload | None:
    if decoded is not None and event.pk in decoded:
        return decoded[event.pk]
    return inbox_payload_decode(source=event.source, type=event.type, payload=event.payload)


def _outcomes_record(
    events: Sequence[InboxEvent], results: Mapping[int, tuple[InboxStatus, str]]
) -> None:
    """Each event's new status and note, one UPDATE per outcome; the attempt counted."""
    now = timezone.now()
    by_outcome: defaultdict[tuple[InboxStatus, str], list[InboxEvent]] = defaultdict(list)
    for event in events:
        by_outcome[results[event.pk]].append(event)
    for (status, note), same in by_outcome.items():
        changes: dict[str, Any] = {"status": status, "last_error": note, "updated_at": now}
        if status == InboxStatus.APPLIED:
            changes["applied_at"] = now
        InboxEvent.objects.filter(pk__in=[event.pk for event in same]).update(
            attempts=F("attempts") + 1, **changes
        )
        for event in same:
            event.attempts += 1
            for name, value in changes.items():
                setattr(event, name, value)
            inbox_outcome_count(source=event.source, outcome=status)


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


def _cause(event: InboxEvent) -> str:
    """What the order's timeline says moved it."""
    return f"{event.source} webhook {event.type} ({event.event_id})"


def _parked_apply(*, subjects: Sequence[str]) -> None:
    """Apply the refunds that overtook a payment, now that it is applied (same transaction).

    Waiting for each row, not skipping it: the caller holds the order, so no other batch
    applies these refunds; a row locked elsewhere is a duplicate's hit being counted, or a
    batch that locked it in passing, and a refund skipped here would stay parked for good
    (the sweep leaves parked rows to their payment). Applied in the order they were received.
    The subjects' locks first: a refund deciding to park right now either committed its
    parked row before this looks, or waits and then finds the payment applied.
    """
    if not subjects:
        return
    payment_subjects_locked(subjects=subjects)
    parked = rows_locked(InboxEvent.objects.filter(status=InboxStatus.PARKED, subject__in=subjects))
    for event in sorted(parked, key=lambda e: (e.received_at, e.pk)):
        inbox_event_take(event=event)


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
    candidates = rows_locked(
        InboxEvent.objects.filter(
            Q(status=InboxStatus.FAILED)
            | Q(status=InboxStatus.RECEIVED, updated_at__lt=stray_before)
            | (Q(Exists(_payment_applied_for_subject), status=InboxStatus.PARKED) & ~Q(subject=""))
        ),
        skip_held=True,
        limit=SWEEP_BATCH_SIZE,
    )
    # Each subject's events in the order they were received.
    due = sorted(
        (
            event
            for event in candidates
            if event.status != InboxStatus.FAILED
            or event.updated_at <= now - inbox_retry_delay(attempts=event.attempts)
        ),
        key=lambda event: (event.subject, event.received_at, event.pk),
    )
    # Their orders locked up front, as a batch's are: the two never deadlock.
    order_events_lock(subjects={event.subject for event in due}, skip_held=False)
    for event in due:
        inbox_event_take(event=event)
    if due:
        logger.info("the inbox sweep applied %d waiting event(s) again", len(due))
    return [event.pk for event in due]


@transaction.atomic
def inbox_event_replay(*, inbox_event: InboxEvent) -> InboxEvent:
    """Staff replay: give a dead-lettered, failed, parked or ignored event a fresh start now."""
    event = row_locked(InboxEvent.objects.filter(pk=inbox_event.pk))
    if event.status == InboxStatus.APPLIED:
        return event
    event.status = InboxStatus.RECEIVED
    event.attempts = 0
    event.last_error = ""
    event.save(update_fields=["status", "attempts", "last_error", "updated_at"])
    inbox_event_take(event=event)
    return event
