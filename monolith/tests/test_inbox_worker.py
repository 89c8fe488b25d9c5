"""Through the real Celery worker and a real broker: envelopes on `tessera.webhooks` reach orders.

The worker runs in a thread (celery.contrib.testing) with the monolith's own Celery app, so
the inbox consumer step is started by Celery's bootsteps exactly as in `celery -A monolith
worker`; only the broker URL differs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from kombu import Connection
from tessera_testsupport import rabbitmq_vhost_url

from monolith import celery_app
from monolith.inbox import tasks as inbox_tasks
from monolith.inbox.consumers import webhook_queue
from monolith.inbox.models import InboxEvent, InboxStatus
from monolith.orders.models import Order
from monolith.orders.services import order_mark_fulfilled
from monolith.orders.state_machine import OrderStatus

from .factories import make_order
from .running_stack import VHOST, this_process_publishing_to
from .webhook_envelopes import payment_event, refund_event, shipment_event

# The worker thread and the test write concurrently, which SQLite's shared in-memory test
# database answers with "table is locked": this runs in the PostgreSQL pass.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(params=["redis", "rabbitmq", "sqs"])
def broker_url(request: pytest.FixtureRequest) -> str:
    # sqs: a local stand-in for Amazon SQS (where the functions publish on Lambda), empty.
    url: str = request.getfixturevalue(f"{request.param}_url")
    if url.startswith("redis"):
        # A database of its own: the functions' suite drains `tessera.webhooks` on its own.
        url = url.rsplit("/", 1)[0] + "/14"
    elif url.startswith("amqp"):
        # The monolith suite's vhost: a `make run` worker on `/` would take the messages.
        url = rabbitmq_vhost_url(url, VHOST)
    with Connection(url) as connection:
        bound = webhook_queue()(connection.default_channel)
        bound.declare()
        bound.purge()
    return url


@pytest.fixture
def worker(broker_url: str, settings) -> Iterator[None]:
    settings.INBOX_RETRY_BASE_SECONDS = 0.05
    # A failed event is retried by the sweep, queued on the worker's timer.
    settings.INBOX_SWEEP_INTERVAL_SECONDS = 0.2
    # `celery worker` imports every app's tasks on start; the embedded worker needs it said.
    assert inbox_tasks.inbox_stuck_sweep.name in celery_app.tasks
    with this_process_publishing_to(broker_url):
        # Tasks left on the task queue by an interrupted run would only add noise.
        celery_app.control.purge()
        with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=20):
            yield


def publish(broker_url: str, *bodies: bytes) -> None:
    """Publish envelopes exactly as the webhook functions do."""
    with Connection(broker_url) as connection:
        producer = connection.Producer()
        queue = webhook_queue()
        for body in bodies:
            producer.publish(
                body,
                exchange=queue.exchange,
                routing_key=queue.routing_key,
                declare=[queue],
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            )


def wait_for(condition: Callable[[], bool], *, timeout: float = 60.0) -> None:
    # Usually met within a second; the bound is for a loaded CI machine.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    inbox = list(InboxEvent.objects.values_list("type", "status", "last_error"))
    raise AssertionError(f"the worker did not get there in time; inbox: {inbox}")


def _status(order: Order) -> str:
    return Order.objects.get(pk=order.pk).status


def test_worker_applies_queued_webhooks_once_in_the_right_order(
    worker: None,
    broker_url: str,
    product,
) -> None:
    paid = make_order((product, 1))
    refunded = make_order((product, 1))
    shipped = make_order((product, 1))
    publish(broker_url, payment_event(shipped.payment))
    wait_for(lambda: _status(shipped) == OrderStatus.PAID)
    order_mark_fulfilled(order=shipped)

    duplicate = payment_event(paid.payment, event_id="evt_twice1")
    publish(
        broker_url,
        duplicate,
        duplicate,
        refund_event(refunded.payment),  # ahead of its payment: parked, then applied
        payment_event(refunded.payment),
        shipment_event(shipped, event_type="shipment.delivered"),  # ahead of in transit
        shipment_event(shipped, event_type="shipment.in_transit"),
    )

    # The duplicate's hit is counted after its batch's events are applied: wait for both.
    wait_for(
        lambda: (
            (_status(paid), _status(refunded), _status(shipped))
            == (OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.DELIVERED)
            and InboxEvent.objects.get(event_id="evt_twice1").duplicate_hits > 0
        )
    )
    assert InboxEvent.objects.get(event_id="evt_twice1").duplicate_hits == 1
    assert paid.transitions.filter(to_status=OrderStatus.PAID).count() == 1


def test_worker_dead_letters_an_event_that_keeps_failing(
    worker: None,
    broker_url: str,
    settings,
    product,
) -> None:
    settings.INBOX_MAX_ATTEMPTS = 3
    unpaid = make_order((product, 1))

    publish(broker_url, shipment_event(unpaid, event_type="shipment.in_transit"))

    wait_for(
        lambda: InboxEvent.objects.filter(
            subject=unpaid.number, status=InboxStatus.DEAD_LETTERED
        ).exists()
    )
    event = InboxEvent.objects.get(subject=unpaid.number)
    assert event.attempts == 3
    assert _status(unpaid) == OrderStatus.PENDING_PAYMENT
