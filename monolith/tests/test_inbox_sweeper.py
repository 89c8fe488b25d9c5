"""Inbox events that wait are found by the sweep and applied, once.

The state under test is what a failed attempt leaves behind (`failed`, retried once its
backoff has passed) and a `received` row nobody applied (as an older worker that recorded
and applied in separate steps could leave): the rows are written here as those paths write
them.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from monolith.inbox.intake import inbox_envelopes_take
from monolith.inbox.models import InboxEvent, InboxStatus
from monolith.inbox.services import inbox_stuck_sweep
from monolith.orders.models import Order
from monolith.orders.services import order_mark_paid
from monolith.orders.state_machine import OrderStatus

from .factories import make_order
from .running_stack import RunningStack, wait_until
from .webhook_envelopes import inbox_event_of, payment_event, refund_event


def _stuck_row(order: Order, *, status: str, attempts: int = 0, age_seconds: float) -> InboxEvent:
    """The inbox row of the order's payment, left `age_seconds` ago with no task queued."""
    envelope = json.loads(payment_event(order.payment))
    event = InboxEvent.objects.create(
        source=envelope["source"],
        event_id=envelope["event_id"],
        type=envelope["type"],
        received_at=envelope["received_at"],
        payload=envelope["payload"],
        subject=order.payment.reference,
        status=status,
        attempts=attempts,
    )
    # auto_now would overwrite a timestamp given to save(); update() writes it as given.
    InboxEvent.objects.filter(pk=event.pk).update(
        updated_at=timezone.now() - timedelta(seconds=age_seconds)
    )
    return event


@pytest.mark.django_db
def test_sweep_applies_failed_events_past_their_backoff_and_stray_received_ones(
    product, settings
) -> None:
    settings.INBOX_SWEEP_GRACE_SECONDS = 60
    settings.INBOX_RETRY_BASE_SECONDS = 30
    stray = _stuck_row(make_order((product, 1)), status=InboxStatus.RECEIVED, age_seconds=61)
    fresh = _stuck_row(make_order((product, 1)), status=InboxStatus.RECEIVED, age_seconds=5)
    # A second failure waits 60 s for its retry.
    retrying = _stuck_row(
        make_order((product, 1)), status=InboxStatus.FAILED, attempts=2, age_seconds=50
    )
    retry_due = _stuck_row(
        make_order((product, 1)), status=InboxStatus.FAILED, attempts=2, age_seconds=61
    )
    parked = _stuck_row(make_order((product, 1)), status=InboxStatus.PARKED, age_seconds=600)

    swept = inbox_stuck_sweep()

    assert sorted(swept) == sorted([stray.pk, retry_due.pk])
    for applied in (stray, retry_due):
        applied.refresh_from_db()
        assert applied.status == InboxStatus.APPLIED
    for untouched in (fresh, retrying, parked):
        assert untouched.pk not in swept
        assert InboxEvent.objects.get(pk=untouched.pk).status == untouched.status
    # Applied rows are settled: the next sweep has nothing to do.
    assert inbox_stuck_sweep() == []


@pytest.mark.django_db
@pytest.mark.parametrize("by_provider_id", [False, True], ids=["our reference", "provider's id"])
def test_sweep_applies_a_refund_left_parked_after_its_payment_was_applied(
    product, by_provider_id: bool
) -> None:
    paid, waiting = make_order((product, 1)), make_order((product, 1))
    stranded = refund_event(paid.payment, by_provider_id=by_provider_id)
    still_early = refund_event(waiting.payment, by_provider_id=by_provider_id)
    inbox_envelopes_take([stranded, still_early])
    assert {inbox_event_of(stranded).status, inbox_event_of(still_early).status} == {
        InboxStatus.PARKED
    }
    # The payment applied without looking for its parked refunds, as when the two raced
    # before refunds took the payment's lock, or a worker died between them.
    order_mark_paid(
        payment=paid.payment,
        provider_payment_id=f"pi_{paid.payment.reference.replace('-', '_')}",
        cause="paid out of band",
    )

    swept = inbox_stuck_sweep()

    assert swept == [inbox_event_of(stranded).pk]
    assert inbox_event_of(stranded).status == InboxStatus.APPLIED
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.REFUNDED
    # Its payment not applied yet, the other refund still waits for it.
    assert inbox_event_of(still_early).status == InboxStatus.PARKED
    assert inbox_stuck_sweep() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "running_stack",
    [{"INBOX_SWEEP_INTERVAL_SECONDS": "0.5", "INBOX_SWEEP_GRACE_SECONDS": "2"}],
    indirect=True,
)
def test_the_worker_sweeps_waiting_events_on_its_timer_and_applies_them_once(
    running_stack: RunningStack, product
) -> None:
    received = make_order((product, 1))
    failed = make_order((product, 1))
    _stuck_row(received, status=InboxStatus.RECEIVED, age_seconds=30)
    _stuck_row(failed, status=InboxStatus.FAILED, attempts=1, age_seconds=30)
    started = time.monotonic()

    def both_paid() -> bool:
        running_stack.check_alive()
        statuses = set(
            Order.objects.filter(pk__in=[received.pk, failed.pk]).values_list("status", flat=True)
        )
        return statuses == {OrderStatus.PAID}

    wait_until(both_paid, timeout=30, what="the worker's sweep applies both lost events")

    assert time.monotonic() - started < 15
    for order in (received, failed):
        assert order.transitions.filter(to_status=OrderStatus.PAID).count() == 1
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {InboxStatus.APPLIED}
