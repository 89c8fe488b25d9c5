"""Taking a batch of webhook envelopes into the inbox: recorded once, applied in order, one commit.

The consumer hands over the envelopes it holds (up to INBOX_BATCH_SIZE) and acknowledges them
only after this returns, so the batch's transaction is the unit of safety: a worker killed
mid-batch commits nothing, the broker redelivers every envelope, and the inbox's unique
(source, event id) turns any that did commit elsewhere into duplicate hits.

In the transaction:

1. one multi-row `INSERT … ON CONFLICT (source, event_id) DO NOTHING RETURNING id` records
   the new events (rows in key order, so two workers inserting overlapping batches wait on
   each other in the same order instead of deadlocking);
2. the events already known count a duplicate hit each;
3. the new events are applied sorted by (subject, received_at): one order's events in the
   order the functions received them, and orders locked in one order by every worker.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, F, Field, IntegerField, Q, Value, When
from django.utils import timezone
from tessera_contract.messaging import WEBHOOK_QUEUE
from tessera_contract.telemetry import traced_span

from monolith.core.after_commit import enqueues_batched

from .events import (
    PayloadError,
    ReceivedEnvelope,
    inbox_payload_decode,
    received_envelope_decode,
)
from .metrics import inbox_outcome_count
from .models import InboxEvent, InboxStatus
from .services import inbox_event_take, inbox_payments_take, inbox_subject_of

logger = logging.getLogger(__name__)

PAYMENT_SUCCEEDED = "payment_intent.succeeded"

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
    """Record the batch's new events and apply them, all in one transaction.

    Raises DatabaseError when the database cannot take the batch (nothing is committed: the
    caller requeues every envelope). An event whose order update fails is noted as failed
    and retried by the sweep; it does not fail the batch.
    """
    outcome = IntakeOutcome()
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
    if not envelopes:
        return outcome
    # One transaction, and one task for the invoice jobs the batch's payments asked for.
    with transaction.atomic(), enqueues_batched():
        new_ids = _insert_new(envelopes)
        for key in envelopes.keys() - new_ids.keys():
            repeats[key] += 1
        _duplicate_hits_count(repeats)
        for (source, _), hits in repeats.items():
            for _ in range(hits):
                inbox_outcome_count(source=source, outcome="duplicate")
        for key in sorted(repeats):
            trace = envelopes[key].trace
            tracestate = trace.tracestate if isinstance(trace.tracestate, str) else ""
            with _webhook_span(trace.traceparent, tracestate):
                logger.info("duplicate webhook %s:%s recorded, not applied again", *key)
        for source, _ in new_ids:
            inbox_outcome_count(source=source, outcome="recorded")
        events = list(
            InboxEvent.objects.select_for_update()
            .filter(pk__in=new_ids.values(), status=InboxStatus.RECEIVED)
            .order_by("subject", "received_at", "id")
        )
        taken = {event.pk for event in _payments_take(events)}
        outcome.outcomes[InboxStatus.APPLIED] += len(taken)
        for event in events:
            if event.pk in taken:
                continue
            with _webhook_span(event.traceparent, event.tracestate):
                outcome.outcomes[inbox_event_take(event=event, continue_trace=False)] += 1
    outcome.recorded = len(new_ids)
    outcome.duplicates = sum(repeats.values())
    return outcome


def _payments_take(events: list[InboxEvent]) -> list[InboxEvent]:
    """Apply the batch's payments together where that cannot reorder anything: a successful
    payment whose subject has no other event in the batch. A lone one takes the per-event
    path (and its own spans); so does every payment this leaves alone."""
    subjects = Counter(event.subject for event in events)
    payments = [
        event
        for event in events
        if event.type == PAYMENT_SUCCEEDED and subjects[event.subject] == 1
    ]
    if len(payments) < 2:
        return []
    return inbox_payments_take(events=payments)


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


def _insert_new(envelopes: dict[_Key, ReceivedEnvelope]) -> dict[_Key, int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the ids of the events that were new."""
    now = timezone.now()
    fields = [_model_field(name) for name in _COLUMNS]
    rows: list[Any] = []
    for key in sorted(envelopes):
        envelope = envelopes[key]
        payload = inbox_payload_decode(
            source=envelope.source, type=envelope.type, payload=envelope.payload
        )
        tracestate = envelope.trace.tracestate
        values = (
            envelope.source,
            envelope.event_id,
            envelope.type,
            envelope.received_at,
            envelope.payload,
            envelope.trace.traceparent,
            tracestate if isinstance(tracestate, str) else "",
            inbox_subject_of(payload),
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
    """Add each known event's hits in one UPDATE."""
    if not repeats:
        return
    matches = Q()
    hits = []
    for (source, event_id), count in repeats.items():
        match = Q(source=source, event_id=event_id)
        matches |= match
        hits.append(When(match, then=Value(count)))
    InboxEvent.objects.filter(matches).update(
        duplicate_hits=F("duplicate_hits") + Case(*hits, output_field=IntegerField()),
        updated_at=timezone.now(),
    )
