"""A burst of ~2,000 signed webhooks, 10 % duplicates and 10 % out of order, end to end.

The sandbox's burst mode sends them to the real functions server, which queues them on the
machine's RabbitMQ; a real monolith worker records and applies them in PostgreSQL. Every
unique event must be recorded once and applied once, nothing lost, and every order must end
in its right state: paid, or refunded when a refund was sent (ahead of its payment).
"""

from __future__ import annotations

import time

import httpx
import pytest
from django.db.models import Count, F, Q, Sum
from prometheus_client.parser import text_string_to_metric_families

from monolith.inbox.models import InboxEvent, InboxStatus
from monolith.orders.models import Order, OrderTransition
from monolith.orders.state_machine import OrderStatus

from .factories import make_category, make_order, make_product
from .running_stack import RunningStack, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

# 1,667 checkouts × (1 payment + 10 % duplicates + 10 % refunds first) ≈ 2,000 deliveries.
CHECKOUTS = 1667
APPLY_DEADLINE_SECONDS = 300.0
UNSETTLED = [InboxStatus.RECEIVED, InboxStatus.FAILED, InboxStatus.PARKED]


def _orders(count: int) -> list[Order]:
    product = make_product(category=make_category(), price="10.00", stock=count)
    return [make_order((product, 1)) for _ in range(count)]


def _wait_until_settled(stack: RunningStack, *, unique_events: int) -> float:
    """Poll until every unique event is recorded and none waits; return the seconds it took."""
    started = time.monotonic()
    deadline = started + APPLY_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        stack.check_alive()
        counts = InboxEvent.objects.aggregate(
            recorded=Count("pk"), unsettled=Count("pk", filter=Q(status__in=UNSETTLED))
        )
        if counts["recorded"] >= unique_events and counts["unsettled"] == 0:
            return time.monotonic() - started
        time.sleep(0.25)
    by_status = dict(InboxEvent.objects.values_list("status").annotate(Count("pk")))
    raise AssertionError(
        f"not settled within {APPLY_DEADLINE_SECONDS:.0f} s: {unique_events} unique events "
        f"expected, inbox by status {by_status}"
    )


def test_burst_of_webhooks_is_applied_exactly_once_with_nothing_lost(
    running_stack: RunningStack, tmp_path
) -> None:
    orders = _orders(CHECKOUTS)
    amount_minor = int(orders[0].payment.amount * 100)

    report = running_stack.burst(
        [order.payment.reference for order in orders],
        amount_minor=amount_minor,
        concurrency=16,
        duplicates_percent=10,
        out_of_order_percent=10,
        seed=20261123,
        folder=tmp_path,
    )

    # The sender got a 202 for everything, each after the broker confirmed it.
    assert report["failed"] == 0, report
    assert report["acknowledged"] == report["sent"] >= 1900, report
    unique_events = report["unique_events"]
    refunds_sent = unique_events - CHECKOUTS
    assert 100 < refunds_sent < 250, report  # ~10 % out of order, or the test proves nothing
    assert report["sent"] - unique_events > 100, report  # ~10 % duplicates

    _wait_until_settled(running_stack, unique_events=unique_events)

    # Recorded once each, none lost, every one applied (refunds after their payment).
    inbox = InboxEvent.objects.all()
    assert inbox.count() == unique_events
    assert set(inbox.values_list("status", flat=True)) == {InboxStatus.APPLIED}
    assert inbox.filter(type="charge.refunded").count() == refunds_sent
    # Every duplicate was seen as one; retries of a delivery that was in fact queued add more.
    duplicate_hits = inbox.aggregate(total=Sum("duplicate_hits"))["total"]
    assert duplicate_hits >= report["sent"] - unique_events

    # Every order in its right final state, each step taken exactly once.
    refunded_references = set(
        inbox.filter(type="charge.refunded").values_list("subject", flat=True)
    )
    final = dict(Order.objects.values_list("payment__reference", "status"))
    expected = {
        order.payment.reference: (
            OrderStatus.REFUNDED
            if order.payment.reference in refunded_references
            else OrderStatus.PAID
        )
        for order in orders
    }
    assert final == expected
    steps = OrderTransition.objects.filter(order__in=orders).exclude(from_status=F("to_status"))
    assert steps.filter(to_status=OrderStatus.PAID).count() == CHECKOUTS
    assert steps.filter(to_status=OrderStatus.REFUNDED).count() == refunds_sent

    # The worker's metrics tell the same story, summed over its main process and its pool.
    # (Parked and failed are not fixed: how many refunds overtook their payment, and how many
    # attempts met a lock and were retried, depends on timing; none may end dead-lettered.)
    outcomes = {
        "recorded": unique_events,
        "duplicate": duplicate_hits,
        "applied": unique_events,
        "dead_lettered": 0,
    }
    # Counted just after each commit: the last count may land a moment after the rows.
    wait_until(
        lambda: _inbox_outcomes(running_stack.worker_metrics_url, "payments", outcomes) == outcomes,
        timeout=10,
        what=f"the worker's inbox metrics to read {outcomes}",
    )
    running_stack.check_alive()


def _inbox_outcomes(metrics_url: str, source: str, outcomes: dict[str, int]) -> dict[str, int]:
    """tessera_inbox_events_total for ``source``, for each outcome asked (0 when absent)."""
    samples = {
        sample.labels["outcome"]: int(sample.value)
        for family in text_string_to_metric_families(httpx.get(metrics_url, timeout=5).text)
        for sample in family.samples
        if sample.name == "tessera_inbox_events_total" and sample.labels["source"] == source
    }
    return {outcome: samples.get(outcome, 0) for outcome in outcomes}
