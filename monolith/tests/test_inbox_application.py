"""The webhook inbox applies each event to its order once, in the right order, or parks it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from monolith.inbox.intake import inbox_envelopes_take
from monolith.inbox.models import InboxEvent, InboxStatus
from monolith.inbox.services import inbox_stuck_sweep
from monolith.jobs.models import JobKind, ProcessingJob
from monolith.orders.models import Order, PaymentStatus
from monolith.orders.services import order_mark_fulfilled
from monolith.orders.state_machine import OrderStatus

from .factories import make_order, make_product
from .inbox_support import database_lost_after_recording, tasks_queued
from .webhook_envelopes import inbox_event_of, payment_event, refund_event, shipment_event

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Received:
    event: InboxEvent
    duplicate: bool


Receive = Callable[[bytes], Received]


@pytest.fixture
def receive(django_capture_on_commit_callbacks) -> Receive:
    """Take one envelope into the inbox as the consumer does (a batch of one)."""

    def deliver(raw: bytes) -> Received:
        with django_capture_on_commit_callbacks(execute=True):
            outcome = inbox_envelopes_take([raw])
        return Received(event=inbox_event_of(raw), duplicate=outcome.duplicates == 1)

    return deliver


@pytest.fixture
def order(product) -> Order:
    return make_order((product, 2))


def _reloaded(order: Order) -> Order:
    return Order.objects.select_related("payment").get(pk=order.pk)


def _last_cause(order: Order) -> str:
    transition = order.transitions.last()
    assert transition is not None
    return transition.cause


def _event(result: Received) -> InboxEvent:
    return InboxEvent.objects.get(pk=result.event.pk)


def test_payment_webhook_marks_the_order_paid(receive: Receive, order: Order) -> None:
    result = receive(payment_event(order.payment))

    order = _reloaded(order)
    assert order.status == OrderStatus.PAID
    assert order.payment.status == PaymentStatus.SUCCEEDED
    assert order.payment.provider_payment_id.startswith("pi_")
    assert _event(result).status == InboxStatus.APPLIED
    assert _last_cause(order).startswith("payments webhook payment_intent.succeeded")


def test_duplicate_payment_webhook_is_applied_once(receive: Receive, order: Order) -> None:
    raw = payment_event(order.payment, event_id="evt_duplicate1")

    first = receive(raw)
    second = receive(raw)
    third = receive(raw)

    assert not first.duplicate
    assert second.duplicate
    assert third.duplicate
    assert InboxEvent.objects.count() == 1
    assert _event(first).duplicate_hits == 2
    assert _reloaded(order).transitions.filter(to_status=OrderStatus.PAID).count() == 1


def test_declined_payment_keeps_the_order_pending_and_says_why(
    receive: Receive, order: Order
) -> None:
    receive(payment_event(order.payment, event_type="payment_intent.payment_failed"))

    order = _reloaded(order)
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.payment.status == PaymentStatus.FAILED
    assert _last_cause(order) == "payment failed: Your card was declined."


def test_refund_after_payment_refunds_the_order(receive: Receive, order: Order) -> None:
    receive(payment_event(order.payment))
    receive(refund_event(order.payment))

    order = _reloaded(order)
    assert order.status == OrderStatus.REFUNDED
    assert order.payment.status == PaymentStatus.REFUNDED


def test_refund_before_its_payment_is_parked_then_applied(receive: Receive, order: Order) -> None:
    refund = receive(refund_event(order.payment))
    assert _event(refund).status == InboxStatus.PARKED
    assert _reloaded(order).status == OrderStatus.PENDING_PAYMENT

    receive(payment_event(order.payment))

    assert _event(refund).status == InboxStatus.APPLIED
    statuses = list(_reloaded(order).transitions.values_list("to_status", flat=True))
    assert statuses == [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.REFUNDED]


@pytest.fixture
def fulfilled_order(receive: Receive, order: Order) -> Order:
    receive(payment_event(order.payment))
    return order_mark_fulfilled(order=_reloaded(order))


def test_carrier_events_ship_then_deliver(receive: Receive, fulfilled_order: Order) -> None:
    receive(shipment_event(fulfilled_order, event_type="shipment.in_transit"))
    assert _reloaded(fulfilled_order).status == OrderStatus.SHIPPED

    receive(shipment_event(fulfilled_order, event_type="shipment.delivered"))
    assert _reloaded(fulfilled_order).status == OrderStatus.DELIVERED


def test_delivered_before_in_transit_applies_both_steps_in_order(
    receive: Receive, fulfilled_order: Order
) -> None:
    receive(shipment_event(fulfilled_order, event_type="shipment.delivered"))
    late = receive(shipment_event(fulfilled_order, event_type="shipment.in_transit"))

    order = _reloaded(fulfilled_order)
    assert order.status == OrderStatus.DELIVERED
    statuses = list(order.transitions.values_list("to_status", flat=True))
    assert statuses[-2:] == [OrderStatus.SHIPPED, OrderStatus.DELIVERED]
    assert _event(late).status == InboxStatus.IGNORED
    assert _event(late).last_error == "order is already delivered"


def test_shipment_exception_is_recorded_in_the_timeline(
    receive: Receive, fulfilled_order: Order
) -> None:
    receive(shipment_event(fulfilled_order, event_type="shipment.exception"))

    order = _reloaded(fulfilled_order)
    assert order.status == OrderStatus.FULFILLED
    assert _last_cause(order) == "carrier exception (delayed): Held at the depot"


def test_unknown_event_type_is_stored_and_ignored(receive: Receive, order: Order) -> None:
    raw = payment_event(order.payment).replace(b"payment_intent.succeeded", b"customer.created")

    result = receive(raw)

    event = _event(result)
    assert event.type == "customer.created"
    assert event.status == InboxStatus.IGNORED
    assert _reloaded(order).status == OrderStatus.PENDING_PAYMENT


def test_failing_event_is_retried_by_the_sweep_after_its_backoff_then_dead_lettered(
    receive: Receive,
    settings,
    product,
) -> None:
    settings.INBOX_MAX_ATTEMPTS = 3
    settings.INBOX_RETRY_BASE_SECONDS = 3600
    paid_elsewhere = make_order((product, 1))
    raw = shipment_event(paid_elsewhere, event_type="shipment.in_transit")

    result = receive(raw)  # a pending order cannot ship: every attempt fails

    event = _event(result)
    assert event.status == InboxStatus.FAILED
    assert event.attempts == 1
    assert event.last_error.startswith("InvalidTransition: An order that is pending payment")
    assert inbox_stuck_sweep() == []  # its backoff (an hour) has not passed
    settings.INBOX_RETRY_BASE_SECONDS = 0
    assert inbox_stuck_sweep() == [event.pk]
    assert inbox_stuck_sweep() == [event.pk]
    event = _event(result)
    assert event.status == InboxStatus.DEAD_LETTERED
    assert event.attempts == 3
    assert inbox_stuck_sweep() == []


def test_a_batch_applies_each_orders_events_in_the_order_they_were_received(
    order: Order, product, django_capture_on_commit_callbacks
) -> None:
    other = make_order((product, 1))
    refund_first = refund_event(order.payment)  # sent before its payment: out of order
    payment = payment_event(order.payment)
    batch = [payment_event(other.payment), refund_first, b"not an envelope", payment, payment]

    with django_capture_on_commit_callbacks(execute=True):
        outcome = inbox_envelopes_take(batch)

    assert outcome.invalid == [2]
    assert outcome.recorded == 3
    assert outcome.duplicates == 1  # the payment, twice in the batch
    # The refund that overtook its payment is applied after it, without parking.
    assert outcome.outcomes == {InboxStatus.APPLIED: 3}
    assert inbox_event_of(refund_first).status == InboxStatus.APPLIED
    assert inbox_event_of(payment).duplicate_hits == 1
    statuses = list(_reloaded(order).transitions.values_list("to_status", flat=True))
    assert statuses == [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.REFUNDED]
    assert _reloaded(other).status == OrderStatus.PAID


def test_events_recorded_by_a_batch_that_failed_before_applying_them_are_applied_by_its_redelivery(
    order: Order, django_capture_on_commit_callbacks
) -> None:
    payment = payment_event(order.payment)
    with (
        connection.execute_wrapper(database_lost_after_recording),
        pytest.raises(OperationalError),
    ):
        inbox_envelopes_take([payment])
    assert (
        inbox_event_of(payment).status == InboxStatus.RECEIVED
    )  # recorded, committed, not applied
    assert _reloaded(order).status == OrderStatus.PENDING_PAYMENT

    # The consumer requeued the batch; the broker hands it over again.
    with django_capture_on_commit_callbacks(execute=True):
        outcome = inbox_envelopes_take([payment])

    assert (outcome.recorded, outcome.duplicates) == (0, 1)
    assert outcome.outcomes == {InboxStatus.APPLIED: 1}
    assert _reloaded(order).status == OrderStatus.PAID
    assert inbox_event_of(payment).status == InboxStatus.APPLIED


def test_a_batch_of_payments_queues_one_task_to_submit_all_their_invoices(
    order: Order, product, django_capture_on_commit_callbacks
) -> None:
    other = make_order((product, 1))

    with django_capture_on_commit_callbacks() as callbacks:
        inbox_envelopes_take([payment_event(order.payment), payment_event(other.payment)])

    invoices = ProcessingJob.objects.filter(kind=JobKind.INVOICE_PDF)
    assert set(invoices.values_list("subject_reference", flat=True)) == {order.number, other.number}
    queued = tasks_queued(callbacks)
    assert len(queued) == 1
    task_name, arguments = queued[0]
    assert task_name == "jobs.processing_jobs_submit"
    assert arguments == (list(invoices.order_by("pk").values_list("pk", flat=True)),)


def test_a_batch_of_payments_is_applied_together_in_a_few_statements(
    category, django_capture_on_commit_callbacks, django_assert_max_num_queries
) -> None:
    product = make_product(category=category, stock=40)
    orders = [make_order((product, 1)) for _ in range(40)]
    raws = [payment_event(order.payment) for order in orders]

    # Set-based: the count does not grow with the batch (per event it was some twenty each).
    with django_capture_on_commit_callbacks(execute=True), django_assert_max_num_queries(25):
        outcome = inbox_envelopes_take(raws)

    assert outcome.outcomes == {InboxStatus.APPLIED: 40}
    for order in orders:
        order = _reloaded(order)
        assert order.status == OrderStatus.PAID
        assert order.payment.status == PaymentStatus.SUCCEEDED
        assert order.payment.provider_payment_id.startswith("pi_")
        assert _last_cause(order).startswith("payments webhook payment_intent.succeeded")
        assert order.transitions.filter(to_status=OrderStatus.PAID).count() == 1
    assert ProcessingJob.objects.filter(kind=JobKind.INVOICE_PDF).count() == 40
    assert set(InboxEvent.objects.values_list("status", "attempts")) == {(InboxStatus.APPLIED, 1)}


def test_payments_taken_together_leave_an_order_that_is_not_pending_to_its_own_rules(
    receive: Receive, product, django_capture_on_commit_callbacks
) -> None:
    pending = make_order((product, 1))
    paid_already = make_order((product, 1))
    receive(payment_event(paid_already.payment, event_id="evt_first_payment"))
    refund = receive(refund_event(pending.payment))  # parked: its payment has not come yet

    with django_capture_on_commit_callbacks(execute=True):
        outcome = inbox_envelopes_take(
            [payment_event(pending.payment), payment_event(paid_already.payment)]
        )

    assert outcome.outcomes == {InboxStatus.APPLIED: 1, InboxStatus.IGNORED: 1}
    assert _reloaded(paid_already).transitions.filter(to_status=OrderStatus.PAID).count() == 1
    # The refund parked for the pending order's payment was applied with it.
    assert _event(refund).status == InboxStatus.APPLIED
    assert _reloaded(pending).status == OrderStatus.REFUNDED


def test_a_batch_of_payments_and_their_refunds_is_applied_together_in_a_few_statements(
    category, django_capture_on_commit_callbacks, django_assert_max_num_queries
) -> None:
    product = make_product(category=category, stock=20)
    orders = [make_order((product, 1)) for _ in range(20)]
    # Each refund sent before its payment, as when the provider's deliveries overtake.
    raws = [raw for o in orders for raw in (refund_event(o.payment), payment_event(o.payment))]

    with django_capture_on_commit_callbacks(execute=True), django_assert_max_num_queries(35):
        outcome = inbox_envelopes_take(raws)

    assert outcome.outcomes == {InboxStatus.APPLIED: 40}
    for order in orders:
        order = _reloaded(order)
        assert order.payment.status == PaymentStatus.REFUNDED
        statuses = list(order.transitions.values_list("to_status", flat=True))
        assert statuses == [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.REFUNDED]
        assert _last_cause(order).startswith("payments webhook charge.refunded")
    assert set(InboxEvent.objects.values_list("status", "attempts")) == {(InboxStatus.APPLIED, 1)}


def test_refunds_taken_together_leave_the_others_to_their_own_rules(
    receive: Receive, product, django_capture_on_commit_callbacks
) -> None:
    paid = [make_order((product, 1)) for _ in range(4)]
    refunded_already, pending = make_order((product, 1)), make_order((product, 1))
    for order in [*paid, refunded_already]:
        receive(payment_event(order.payment))
    receive(refund_event(refunded_already.payment))
    in_full, by_provider_id, partly = paid[:2], paid[2], paid[3]
    batch = {
        "in full": [refund_event(order.payment) for order in in_full],
        "by provider id": [refund_event(by_provider_id.payment, by_provider_id=True)],
        "partly": [refund_event(partly.payment, refunded_minor=100)],
        "again": [refund_event(refunded_already.payment)],
        "before its payment": [refund_event(pending.payment)],
    }

    with django_capture_on_commit_callbacks(execute=True):
        outcome = inbox_envelopes_take([raw for raws in batch.values() for raw in raws])

    assert outcome.outcomes == {
        InboxStatus.APPLIED: 4,
        InboxStatus.IGNORED: 1,
        InboxStatus.PARKED: 1,
    }
    for order in [*in_full, by_provider_id]:
        assert _reloaded(order).status == OrderStatus.REFUNDED
        assert _reloaded(order).payment.status == PaymentStatus.REFUNDED
    assert _reloaded(partly).status == OrderStatus.PAID
    assert _last_cause(_reloaded(partly)).startswith("partial refund: 100 of ")
    assert inbox_event_of(batch["again"][0]).status == InboxStatus.IGNORED
    assert _reloaded(refunded_already).transitions.filter(to_status="refunded").count() == 1
    assert inbox_event_of(batch["before its payment"][0]).status == InboxStatus.PARKED
    assert _reloaded(pending).status == OrderStatus.PENDING_PAYMENT


def test_an_event_that_fails_in_a_batch_does_not_undo_the_others(
    order: Order, product, django_capture_on_commit_callbacks
) -> None:
    pending = make_order((product, 1))
    cannot_ship = shipment_event(pending, event_type="shipment.in_transit")

    with django_capture_on_commit_callbacks(execute=True):
        outcome = inbox_envelopes_take([cannot_ship, payment_event(order.payment)])

    assert outcome.outcomes == {InboxStatus.FAILED: 1, InboxStatus.APPLIED: 1}
    assert inbox_event_of(cannot_ship).status == InboxStatus.FAILED
    assert _reloaded(pending).status == OrderStatus.PENDING_PAYMENT
    assert _reloaded(order).status == OrderStatus.PAID


def test_staff_replay_a_dead_lettered_event_from_the_admin(
    receive: Receive,
    settings,
    order: Order,
    staff_user,
    django_capture_on_commit_callbacks,
) -> None:
    settings.INBOX_MAX_ATTEMPTS = 1
    receive(payment_event(order.payment))
    early = receive(shipment_event(order, event_type="shipment.in_transit"))
    assert _event(early).status == InboxStatus.DEAD_LETTERED
    order_mark_fulfilled(order=_reloaded(order))

    client = Client()
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:inbox_inboxevent_changelist"),
            {"action": "replay", "_selected_action": [early.event.pk]},
        )

    assert response.status_code == 302
    assert _event(early).status == InboxStatus.APPLIED
    assert _reloaded(order).status == OrderStatus.SHIPPED


def test_admin_lists_the_inbox_with_filters_and_search(
    receive: Receive,
    order: Order,
    staff_user,
) -> None:
    receive(payment_event(order.payment, event_id="evt_listed1"))
    client = Client()
    client.force_login(staff_user)

    response = client.get(
        reverse("admin:inbox_inboxevent_changelist"), {"status__exact": "applied", "q": "listed"}
    )

    assert response.status_code == 200
    assert b"evt_listed1" in response.content
