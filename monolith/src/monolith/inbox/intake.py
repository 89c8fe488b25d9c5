"""Taking a batch of webhook envelopes into the inbox: recorded once, applied in order.

The consumer hands over the envelopes it holds (up to INBOX_BATCH_SIZE) and acknowledges them
only after this returns, so nothing is acknowledged before it is committed: a worker killed
mid-batch leaves every envelope on the queue, and the inbox's unique (source, event id) turns
the redelivery of what did commit into duplicate hits.

Three short transactions, so that workers sharing the queue wait for each other as little as
possible (a duplicate's copies often land in two workers' batches at once):

1. record: one multi-row `INSERT … ON CONFLICT (source, event_id) DO NOTHING RETURNING id`
   (rows in key order, so two workers inserting overlapping batches wait on each other in
   the same order instead of deadlocking). It commits at once: a batch repeating an event
   that another worker's batch recorded waits for that insert, not for its applying;
2. apply: every event of the batch still `received` (the new ones, and any a worker killed
   between 1 and 2 left), locked with SKIP LOCKED (one that another worker is applying is
   its business), sorted by (subject, received_at): one order's events in the order the
   functions received them. Their orders are locked first, all in id order
   (order_events_lock), so two batches sharing orders wait instead of deadlocking. The
   batch's payments and refunds go first, each kind together, where that cannot change an
   outcome (_taken_together); the rest one by one. Each event is applied with the contract
   event decoded as it came off the queue. The events whose order another batch holds are
   taken again in a transaction of their own, waiting for their rows and orders;
3. count: the events already known count a duplicate hit each, after 2 committed (the hit's
   row may be one another worker is applying: waiting for it holds nothing of ours).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, F, Field, IntegerField, Q, Value, When
from django.utils import timezone
from tessera_contract.messaging import WEBHOOK_QUEUE
from tessera_runtime.telemetry.tracing import traced_span

from monolith.core.after_commit import enqueues_batched
from monolith.core.row_locks import rows_locked
from monolith.orders.webhook_events import order_event_subject, order_events_lock

from .events import PayloadError, ReceivedEnvelope, received_envelope_decode
from .metrics import inbox_outcome_count
from .models import InboxEvent, InboxStatus
from .services import Decoded, inbox_event_take, inbox_events_take

logger = logging.getLogger(__name__)

PAYMENT_SUCCEEDED = "payment_intent.succeeded"
REFUNDED = "charge.refunded"

_Key = tuple[str, str]  # (source, event id)

# The columns the intake writes, in the INSERT's order.
_COLUMNS = (
    "source",
    "event_id",
    "type",
    "received_at",
    "payload",
    "traceparent",
    "tracestate",
    "subject",
    "status",
    "attempts",
    "duplicate_hits",
    "last_error",
    "created_at",
    "updated_at",
)


@dataclass
class IntakeOutcome:
    """What became of a batch: positions refer to the envelopes as handed over."""

    invalid: list[int] = field(default_factory=list)  # not envelopes: reject, never redeliver
    recorded: int = 0
    duplicates: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # applied, parked, failed, ...


def inbox_envelopes_take(raws: Sequence[bytes]) -> IntakeOutcome:
    """Record the batch's new events, apply every one still waiting, count the duplicates.

    Raises DatabaseError when the database cannot take the batch (the caller requeues every
    envelope: what committed before is found again as duplicates, and what was recorded but
    not applied is applied by the redelivery). An event whose order update fails is noted
    as failed and retried by the sweep; it does not fail the batch.
    """
    outcome = IntakeOutcome()
    envelopes, repeats = _decoded(raws, outcome)
    if not envelopes:
        return outcome
    with transaction.atomic():
        new_ids = _insert_new(envelopes)
    for source, _ in new_ids:
        inbox_outcome_count(source=source, outcome="recorded")
    for key in envelopes.keys() - new_ids.keys():
        repeats[key] += 1
    # The new events' contract events, as decoded off the queue; the others' are in their rows.
    decoded = {pk: envelopes[key].event for key, pk in new_ids.items()}
    waiting = [*new_ids.values(), *_waiting_among(repeats)]
    held = _waiting_apply(waiting, outcome, decoded=decoded, wait=False)
    if held:
        _waiting_apply(held, outcome, decoded=decoded, wait=True)
    if repeats:
        with transaction.atomic():
            _duplicate_hits_count(repeats)
        _duplicates_report(repeats, envelopes)
    outcome.recorded = len(new_ids)
    outcome.duplicates = sum(repeats.values())
    return outcome


def _decoded(
    raws: Sequence[bytes], outcome: IntakeOutcome
) -> tuple[dict[_Key, ReceivedEnvelope], Counter[_Key]]:
    """The batch's envelopes by key, and the keys it holds more than once (noting the
    positions that are not envelopes at all in ``outcome``)."""
    envelopes: dict[_Key, ReceivedEnvelope] = {}
    repeats: Counter[_Key] = Counter()
    for position, raw in enumerate(raws):
        try:
            envelope = received_envelope_decode(raw)
        except PayloadError as error:
            logger.error("rejecting a message that is not a webhook envelope: %s", error)
            inbox_outcome_count(source="unknown", outcome="rejected")
            outcome.invalid.append(position)
            continue
        key: _Key = (envelope.source, envelope.event_id)
        if key in envelopes:
            repeats[key] += 1  # the same event twice in one batch: a duplicate like any other
        else:
            envelopes[key] = envelope
    return envelopes, repeats


def _waiting_among(keys: Collection[_Key]) -> list[int]:
    """The ids of those known events that are still `received` (recorded by a batch that
    failed or was killed before applying them)."""
    if not keys:
        return []
    known = InboxEvent.objects.filter(_keys_match(keys)).values_list("pk", "status")
    return [pk for pk, status in known if status == InboxStatus.RECEIVED]


def _waiting_apply(
    ids: list[int], outcome: IntakeOutcome, *, decoded: Decoded, wait: bool
) -> list[int]:
    """Apply the events with these ids that are still `received`, in one transaction.

    Without ``wait``, the events whose order another worker's batch holds are left for
    later and their ids returned: a batch holding one of them would otherwise wait for that
    whole batch (measured: most 2-worker batches did, a refund and its payment split across
    two batches). Applied after the rest, they keep their order's events in sequence.
    """
    # One task for the invoice jobs the batch's payments asked for.
    with transaction.atomic(), enqueues_batched():
        locked = sorted(
            _received_locked(ids, wait=wait), key=lambda e: (e.subject, e.received_at, e.pk)
        )
        held = order_events_lock(subjects={e.subject for e in locked}, skip_held=not wait)
        events = [event for event in locked if event.subject not in held]
        taken = _taken_together(events, decoded)
        outcome.outcomes.update(taken.values())
        for event in events:
            if event.pk in taken:
                continue
            with _webhook_span(event.traceparent, event.tracestate):
                status = inbox_event_take(event=event, decoded=decoded, continue_trace=False)
                outcome.outcomes[status] += 1
    return [event.pk for event in locked if event.subject in held]


def _received_locked(ids: list[int], *, wait: bool) -> list[InboxEvent]:
    """Lock the events with these ids that are still `received`.

    Without ``wait``, SKIP LOCKED: a row locked elsewhere is being applied by another batch,
    which then applies it or, when its order is held, takes it again waiting. With ``wait``,
    each row is waited for, in id order as duplicate hits are counted (so the two never
    deadlock): these are the batch's own held events, and a row locked elsewhere now may be
    a duplicate's hit being counted, which does not apply it (skipped here, a payment of the
    benchmark's burst waited 141 s for the sweep).

    Locked by primary key, the status checked once locked: the status index holds an entry
    per row version, which a burst's updates make many times larger than the rows still
    received (measured 4-6 ms a batch when PostgreSQL chose it).
    """
    rows = rows_locked(InboxEvent.objects.filter(pk__in=ids), skip_held=not wait)
    return [event for event in rows if event.status == InboxStatus.RECEIVED]


def _taken_together(events: list[InboxEvent], decoded: Decoded) -> dict[int, str]:
    """Apply the batch's payments together, then its refunds, where that changes no outcome;
    return the statuses of the events taken, by id. The rest are taken one by one, in
    (subject, received) order.

    A successful payment is taken with the others when its subject's other events in the
    batch are refunds: a refund received before its payment would only park and be applied
    when the payment is, so applying the payment first ends the same, without the detour.
    A refund is taken with the others when it is the last event of its subject left. Fewer
    than two of a kind take the per-event path (and its own spans).
    """
    by_subject: defaultdict[str, list[InboxEvent]] = defaultdict(list)
    for event in events:
        by_subject[event.subject].append(event)

    def alone_with_refunds(event: InboxEvent) -> bool:
        return all(other is event or other.type == REFUNDED for other in by_subject[event.subject])

    payments = [e for e in events if e.type == PAYMENT_SUCCEEDED and alone_with_refunds(e)]
    taken: dict[int, str] = {}
    if len(payments) > 1:
        taken |= inbox_events_take(
            events=payments, span="run/inbox.inbox_payments_apply", decoded=decoded
        )
    refunds = [
        event
        for event in events
        if event.type == REFUNDED
        and all(other is event or other.pk in taken for other in by_subject[event.subject])
    ]
    if len(refunds) > 1:
        taken |= inbox_events_take(
            events=refunds, span="run/inbox.inbox_refunds_apply", decoded=decoded
        )
    return taken


def _webhook_span(traceparent: str, tracestate: str) -> AbstractContextManager[Any]:
    """The consumer's span for one webhook, continuing the trace its envelope carried."""
    return traced_span(
        "tessera.webhooks process",
        traceparent=traceparent or None,
        tracestate=tracestate or None,
        kind="consumer",
        attributes={"messaging.destination.name": WEBHOOK_QUEUE},
    )


def _model_field(name: str) -> Field[Any, Any]:
    model_field = InboxEvent._meta.get_field(name)
    if not isinstance(model_field, Field):
        raise TypeError(f"InboxEvent.{name} is a relation, not a column")
    return model_field


def _keys_match(keys: Collection[_Key]) -> Q:
    """These events: one `event_id IN (…)` per source (the unique index serves it)."""
    by_source: defaultdict[str, list[str]] = defaultdict(list)
    for source, event_id in keys:
        by_source[source].append(event_id)
    matches = Q()
    for source, event_ids in by_source.items():
        matches |= Q(source=source, event_id__in=event_ids)
    return matches


def _duplicates_report(repeats: Counter[_Key], envelopes: dict[_Key, ReceivedEnvelope]) -> None:
    for (source, _), hits in repeats.items():
        for _ in range(hits):
            inbox_outcome_count(source=source, outcome="duplicate")
    for key in sorted(repeats):
        trace = envelopes[key].trace
        tracestate = trace.tracestate if isinstance(trace.tracestate, str) else ""
        with _webhook_span(trace.traceparent, tracestate):
            logger.info("duplicate webhook %s:%s recorded, not applied again", *key)


def _insert_new(envelopes: dict[_Key, ReceivedEnvelope]) -> dict[_Key, int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the ids of the events that were new."""
    now = timezone.now()
    fields = [_model_field(name) for name in _COLUMNS]
    rows: list[Any] = []
    for key in sorted(envelopes):
        envelope = envelopes[key]
        tracestate = envelope.trace.tracestate
        values = (
            envelope.source,
            envelope.event_id,
            envelope.type,
            envelope.received_at,
            envelope.payload,
            envelope.trace.traceparent,
            tracestate if isinstance(tracestate, str) else "",
            order_event_subject(envelope.event) if envelope.event is not None else "",
            InboxStatus.RECEIVED,
            0,
            0,
            "",
            now,
            now,
        )
        # Each value as its model field prepares it for this database (JSON, datetimes).
        rows.extend(
            model_field.get_db_prep_save(value, connection)
            for model_field, value in zip(fields, values, strict=True)
        )
    quote = connection.ops.quote_name
    # The model sets no db_column: each column is named as its field.
    columns = ", ".join(quote(name) for name in _COLUMNS)
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = quote(InboxEvent._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {', '.join([one_row] * len(envelopes))} "  # noqa: S608 - names from the model, values bound
        f"ON CONFLICT ({quote('source')}, {quote('event_id')}) DO NOTHING "
        f"RETURNING {quote('id')}, {quote('source')}, {quote('event_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, rows)
        return {(source, event_id): pk for pk, source, event_id in cursor.fetchall()}


def _duplicate_hits_count(repeats: Counter[_Key]) -> None:
    """Add each known event's hits in one UPDATE, its rows locked in id order first (two
    workers counting the same events wait for each other instead of deadlocking)."""
    hits = [
        When(Q(source=source, event_id=event_id), then=Value(count))
        for (source, event_id), count in repeats.items()
    ]
    rows = rows_locked(InboxEvent.objects.filter(_keys_match(repeats)).only("pk"))
    InboxEvent.objects.filter(pk__in=[row.pk for row in rows]).update(
        duplicate_hits=F("duplicate_hits") + Case(*hits, output_field=IntegerField()),
        updated_at=timezone.now(),
    )
