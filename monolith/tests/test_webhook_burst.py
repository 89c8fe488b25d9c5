"""A burst of ~2,000 signed webhooks, 10 % duplicates and 10 % out of order, end to end.

The sandbox's burst mode sends them to the real functions server, which queues them on the
machine's RabbitMQ; real monolith workers (one, or two sharing the queue) record and apply
them in PostgreSQL, in batches. Every unique event must be recorded once and applied once,
nothing lost, and every order must end in its right state: paid, or refunded when a refund
was sent (ahead of its payment) — also when a worker is killed in the middle of a batch.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from django.db.models import Count, F, Q, Sum
from prometheus_client.parser import text_string_to_metric_families

from monolith.inbox.models import InboxEvent, InboxStatus
from monolith.orders.models import Order, OrderTransition
from monolith.orders.state_machine import OrderStatus

from .database_sessions import order_locked, sessions_waiting_on_a_lock
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


def _wait_until_settled(stack: RunningStack, *, report: dict[str, Any]) -> float:
    """Poll until every unique event is recorded, none waits and every duplicate is counted
    (a batch counts its duplicates after its events are applied); return the seconds it took."""
    unique_events, duplicates = report["unique_events"], report["sent"] - report["unique_events"]
    started = time.monotonic()
    deadline = started + APPLY_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        stack.check_alive()
        counts = InboxEvent.objects.aggregate(
            recorded=Count("pk"),
            unsettled=Count("pk", filter=Q(status__in=UNSETTLED)),
            duplicate_hits=Sum("duplicate_hits", default=0),
        )
        if (
            counts["recorded"] >= unique_events
            and counts["unsettled"] == 0
            and counts["duplicate_hits"] >= duplicates
        ):
            return time.monotonic() - started
        time.sleep(0.25)
    by_status = dict(InboxEvent.objects.values_list("status").annotate(Count("pk")))
    raise AssertionError(
        f"not settled within {APPLY_DEADLINE_SECONDS:.0f} s: {unique_events} unique events "
        f"and {duplicates} duplicates expected, inbox by status {by_status}"
    )


def _burst(running_stack: RunningStack, orders: list[Order], folder: Any) -> dict[str, Any]:
    report = running_stack.burst(
        [order.payment.reference for order in orders],
        amount_minor=int(orders[0].payment.amount * 100),
        concurrency=16,
        duplicates_percent=10,
        out_of_order_percent=10,
        seed=20261123,
        folder=folder,
    )
    # The sender got a 202 for everything, each after the broker confirmed it.
    assert report["failed"] == 0, report
    assert report["acknowledged"] == report["sent"] >= 1900, report
    refunds_sent = report["unique_events"] - len(orders)
    assert 100 < refunds_sent < 250, report  # ~10 % out of order, or the test proves nothing
    assert report["sent"] - report["unique_events"] > 100, report  # ~10 % duplicates
    return report


def _assert_exactly_once(orders: list[Order], report: dict[str, Any]) -> int:
    """Recorded once each, none lost, every one applied; each order's steps taken once.
    Returns the duplicate hits counted."""
    unique_events = report["unique_events"]
    refunds_sent = unique_events - len(orders)
    inbox = InboxEvent.objects.all()
    assert inbox.count() == unique_events
    assert set(inbox.values_list("status", flat=True)) == {InboxStatus.APPLIED}
    assert inbox.filter(type="charge.refunded").count() == refunds_sent
    # Every duplicate was seen as one; retries of a delivery that was in fact queued, and
    # redeliveries of a killed worker's batch, add more.
    duplicate_hits: int = inbox.aggregate(total=Sum("duplicate_hits"))["total"]
    assert duplicate_hits >= report["sent"] - unique_events

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
    assert steps.filter(to_status=OrderStatus.PAID).count() == len(orders)
    assert steps.filter(to_status=OrderStatus.REFUNDED).count() == refunds_sent
    return duplicate_hits


@pytest.mark.parametrize("running_stack", [{"workers": 1}, {"workers": 2}], indirect=True)
def test_burst_of_webhooks_is_applied_exactly_once_with_nothing_lost(
    running_stack: RunningStack, tmp_path
) -> None:
    orders = _orders(CHECKOUTS)

    report = _burst(running_stack, orders, tmp_path)
    _wait_until_settled(running_stack, report=report)
    duplicate_hits = _assert_exactly_once(orders, report)

    # The workers' metrics tell the same story, summed over their main processes and pools.
    # (Parked and failed are not fixed: how many refunds overtook their payment, and how many
    # attempts met a lock and were retried, depends on timing; none may end dead-lettered.)
    unique_events = report["unique_events"]
    outcomes = {
        "recorded": unique_events,
        "duplicate": duplicate_hits,
        "applied": unique_events,
        "dead_lettered": 0,
    }
    # Counted just after each commit: the last count may land a moment after the rows.
    wait_until(
        lambda: (
            _inbox_outcomes(running_stack.worker_metrics_urls, "payments", outcomes) == outcomes
        ),
        timeout=10,
        what=f"the workers' inbox metrics to read {outcomes}",
    )
    running_stack.check_alive()


@pytest.mark.parametrize("running_stack", [{"workers": 2, "INBOX_BATCH_SIZE": "50"}], indirect=True)
def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing_and_applies_nothing_twice(
    running_stack: RunningStack, tmp_path
) -> None:
    orders = _orders(CHECKOUTS)
    report: dict[str, Any] = {}
    with order_locked(orders[0].pk) as locker:
        # The burst runs on; a worker whose batch holds the locked order's events waits on
        # it in the middle of its batch: its events recorded (committed), their applying
        # begun, nothing acknowledged. The redelivery must apply what it recorded, once.
        sender = threading.Thread(
            target=lambda: report.update(_burst(running_stack, orders, tmp_path)), daemon=True
        )
        sender.start()
        waiting: set[str] = set()

        def a_worker_waits_on_the_order() -> bool:
            blocker = locker.info.backend_pid
            waiting.update(sessions_waiting_on_a_lock("tessera-worker-", blocked_by=blocker))
            return bool(waiting)

        wait_until(
            a_worker_waits_on_the_order,
            timeout=120,
            what="a worker waiting on the locked order, mid-batch",
        )
        name = sorted(waiting)[0].removeprefix("tessera-")
        victim = next(worker for worker in running_stack.workers if worker.name == name)
        victim.kill()
    # The lock is released: the killed worker's applying is rolled back by PostgreSQL, and
    # the broker hands its unacknowledged batch to the other worker, which finds the events
    # recorded but still waiting and applies them.
    sender.join(timeout=300)
    assert report, "the burst did not finish"
    _wait_until_settled(running_stack, report=report)
    _assert_exactly_once(orders, report)
    running_stack.check_alive()


def _inbox_outcomes(
    metrics_urls: tuple[str, ...], source: str, outcomes: dict[str, int]
) -> dict[str, int]:
    """tessera_inbox_events_total for ``source``, summed over the workers, for each outcome
    asked (0 when absent)."""
    totals = dict.fromkeys(outcomes, 0)
    for metrics_url in metrics_urls:
        for family in text_string_to_metric_families(httpx.get(metrics_url, timeout=5).text):
            for sample in family.samples:
                outcome = sample.labels.get("outcome")
                if (
                    sample.name == "tessera_inbox_events_total"
                    and sample.labels.get("source") == source
                    and outcome in totals
                ):
                    totals[outcome] += int(sample.value)
    return totals
