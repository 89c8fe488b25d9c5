"""A payment has one path: what *paid* causes is the same whether its webhook came alone, in a
batch with other payments (applied together, in a few statements), or was applied by the
sweep after the batch that recorded it failed.

Every consequence is compared, each made relative to its order (numbers, references and event
ids replaced by placeholders): the order's status and timeline, the payment, the invoice job
asked for through the outbox and its submission queued after commit, the stock (reserved at
checkout, untouched by paying), the inbox's rows, the applied count on the metrics, and the
refund that overtook the payment, parked until it landed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client import REGISTRY

from monolith.catalog.models import Product
from monolith.inbox.intake import inbox_envelopes_take
from monolith.inbox.models import InboxEvent, InboxStatus
from monolith.inbox.services import inbox_stuck_sweep
from monolith.jobs.models import ProcessingJob
from monolith.orders.models import Order

from .factories import make_order
from .inbox_support import database_lost_after_recording, tasks_queued
from .webhook_envelopes import inbox_event_of, payment_event, refund_event

pytestmark = pytest.mark.django_db

WAYS = ("alone", "in a batch", "by the sweep")
SUBMIT_TASK = "jobs.processing_jobs_submit"


def _applied_counted() -> float:
    sample = REGISTRY.get_sample_value(
        "tessera_inbox_events_total", {"source": "payments", "outcome": "applied"}
    )
    return sample or 0.0


def _deliver(way: str, payment: bytes, others: list[bytes]) -> list[str]:
    """Take the payment's webhook into the inbox the given way; return the SQL it applied by."""
    if way == "by the sweep":
        with (
            connection.execute_wrapper(database_lost_after_recording),
            pytest.raises(OperationalError),
        ):
            inbox_envelopes_take([payment])
        event = inbox_event_of(payment)
        assert event.status == InboxStatus.RECEIVED  # recorded, not applied
        InboxEvent.objects.filter(pk=event.pk).update(
            updated_at=timezone.now() - timedelta(hours=1)
        )
    with CaptureQueriesContext(connection) as queries:
        if way == "by the sweep":
            assert inbox_stuck_sweep() == [inbox_event_of(payment).pk]
        else:
            batch = [*others[:1], payment, *others[1:]] if way == "in a batch" else [payment]
            outcome = inbox_envelopes_take(batch)
            assert outcome.outcomes == {InboxStatus.APPLIED: len(batch)}
    return [query["sql"] for query in queries.captured_queries]


def _footprint(
    order: Order, *, product: Product, stock_before: int, queued: set[int]
) -> dict[str, Any]:
    """Everything the payment of ``order`` caused, with the order's own names as placeholders."""
    order = Order.objects.select_related("payment").get(pk=order.pk)
    payment = order.payment
    events = list(InboxEvent.objects.filter(subject=payment.reference).order_by("received_at"))
    names = {
        order.number: "<order>",
        payment.reference: "<reference>",
        payment.reference.replace("-", "_"): "<reference>",  # inside the provider's pi_ id
        **{event.event_id: f"<event {position}>" for position, event in enumerate(events)},
    }

    def plain(text: str) -> str:
        for name, placeholder in names.items():
            text = text.replace(name, placeholder)
        return text

    def request(job: ProcessingJob) -> str:
        payload = dict(job.request_payload)
        payload["input"] = {k: v for k, v in payload["input"].items() if k != "issued_at"}
        return plain(json.dumps(payload, sort_keys=True))

    product.refresh_from_db(fields=["stock"])
    return {
        "order": (order.status, order.tracking_number),
        "timeline": [
            (step.from_status, step.to_status, plain(step.cause), step.actor_id)
            for step in order.transitions.all()
        ],
        "payment": (payment.status, plain(payment.provider_payment_id), payment.amount),
        "invoice jobs": [
            (
                job.kind,
                job.subject_type,
                plain(job.request_key),
                plain(job.idempotency_key),
                job.status,
                job.submit_attempts,
                job.last_error,
                request(job),
                "submission queued" if job.pk in queued else "not queued",
            )
            for job in ProcessingJob.objects.filter(subject_reference=order.number)
        ],
        "stock taken by paying": stock_before - product.stock,
        "inbox": [
            (
                event.type,
                event.status,
                event.attempts,
                plain(event.last_error),
                event.applied_at is not None,
                event.duplicate_hits,
            )
            for event in events
        ],
    }


@pytest.mark.parametrize("refund_first", [False, True], ids=["payment", "refund overtook it"])
def test_a_payment_causes_the_same_alone_in_a_batch_or_applied_by_the_sweep(
    product, settings, django_capture_on_commit_callbacks, refund_first: bool
) -> None:
    settings.INBOX_SWEEP_GRACE_SECONDS = 60
    Product.objects.filter(pk=product.pk).update(stock=100)
    footprints = {}
    for way in WAYS:
        # Other payments on either side of it, by order id and in the batch.
        before = make_order((product, 1))
        order = make_order((product, 2))
        others = [payment_event(other.payment) for other in (before, make_order((product, 1)))]
        if refund_first:
            refund = refund_event(order.payment)
            inbox_envelopes_take([refund])
            assert inbox_event_of(refund).status == InboxStatus.PARKED
        stock_before = Product.objects.get(pk=product.pk).stock
        applied_before = _applied_counted()

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            sql = _deliver(way, payment_event(order.payment), others)

        others_applied = len(others) if way == "in a batch" else 0
        assert _applied_counted() - applied_before - others_applied == 1 + refund_first
        # One statement per status the order takes, for the whole batch: taken together.
        status_changes = [q for q in sql if q.startswith('UPDATE "orders_order" SET "status"')]
        assert len(status_changes) == 1 + refund_first, status_changes
        queued: set[int] = set()
        for task, arguments in tasks_queued(callbacks):
            job_ids = arguments[0]
            if task == SUBMIT_TASK and isinstance(job_ids, list):
                queued.update(job_ids)
        footprints[way] = _footprint(
            order, product=product, stock_before=stock_before, queued=queued
        )

    alone = footprints["alone"]
    assert alone["order"][0] == ("refunded" if refund_first else "paid")
    assert [job[0] for job in alone["invoice jobs"]] == ["invoice_pdf"]
    assert alone["invoice jobs"][0][-1] == "submission queued"
    assert alone["stock taken by paying"] == 0
    assert {event[1] for event in alone["inbox"]} == {InboxStatus.APPLIED}
    assert footprints["in a batch"] == alone
    assert footprints["by the sweep"] == alone
