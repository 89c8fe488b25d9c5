"""Inbox events whose apply task was lost are found by the sweep and applied, once.

The state under test is what a worker leaves behind when it dies between committing an
inbox row and queueing its apply task (`received`, nothing queued), or when the broker loses
a retry (`failed`, nothing queued): the rows are written here exactly as the consumer and
the failure path write them.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from celery import Celery
from django.utils import timezone
from kombu import Connection, Queue
from tessera_testsupport import rabbitmq_vhost_url

from monolith.inbox.consumers import task_queue_backlog
from monolith.inbox.models import InboxEvent, InboxStatus
from monolith.inbox.services import inbox_stuck_sweep
from monolith.orders.models import Order
from monolith.orders.state_machine import OrderStatus

from .factories import make_order
from .running_stack import VHOST, RunningStack, wait_until
from .webhook_envelopes import payment_event


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
def test_sweep_requeues_only_events_left_longer_than_the_grace_period(
    product, settings, django_capture_on_commit_callbacks
) -> None:
    settings.INBOX_SWEEP_GRACE_SECONDS = 60
    settings.INBOX_RETRY_BASE_SECONDS = 30
    lost = _stuck_row(make_order((product, 1)), status=InboxStatus.RECEIVED, age_seconds=61)
    fresh = _stuck_row(make_order((product, 1)), status=InboxStatus.RECEIVED, age_seconds=5)
    # A second failure waits 60 s for its retry: 90 s untouched is within grace + backoff.
    retrying = _stuck_row(
        make_order((product, 1)), status=InboxStatus.FAILED, attempts=2, age_seconds=90
    )
    retry_lost = _stuck_row(
        make_order((product, 1)), status=InboxStatus.FAILED, attempts=2, age_seconds=121
    )
    parked = _stuck_row(make_order((product, 1)), status=InboxStatus.PARKED, age_seconds=600)

    with django_capture_on_commit_callbacks() as queued:
        swept = inbox_stuck_sweep()

    assert sorted(swept) == sorted([lost.pk, retry_lost.pk])
    assert len(queued) == 2
    for untouched in (fresh, retrying, parked):
        assert untouched.pk not in swept
    # Swept rows count as touched: the next sweep leaves them to the task just queued.
    with django_capture_on_commit_callbacks() as queued_again:
        assert inbox_stuck_sweep() == []
    assert queued_again == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "running_stack",
    [{"INBOX_SWEEP_INTERVAL_SECONDS": "0.5", "INBOX_SWEEP_GRACE_SECONDS": "2"}],
    indirect=True,
)
def test_worker_sweeps_events_whose_apply_task_was_lost_and_applies_them_once(
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


def test_sweep_is_postponed_while_tasks_wait_on_the_queue(rabbitmq_url: str) -> None:
    """In a burst, old `received` rows are queued, not lost: sweeping would only add tasks."""
    broker_url = rabbitmq_vhost_url(rabbitmq_url, VHOST)
    app = Celery("sweep-backlog", broker=broker_url)
    app.conf.task_default_queue = "tessera.tests.sweep-backlog"
    queue = Queue(app.conf.task_default_queue, durable=False, auto_delete=False)
    with Connection(broker_url) as connection:
        bound = queue(connection.default_channel)
        bound.declare()
        bound.purge()
        try:
            assert task_queue_backlog(app) == 0
            connection.Producer().publish({"task": "waiting"}, routing_key=queue.name)
            wait_until(lambda: task_queue_backlog(app) == 1, timeout=5, what="one waiting")
        finally:
            bound.delete()
