import pytest

from monolith.catalog.models import Product
from monolith.orders.models import OrderTransition
from monolith.orders.services import order_cancel, order_mark_fulfilled, order_transition
from monolith.orders.state_machine import (
    ALLOWED_TRANSITIONS,
    FINAL_STATUSES,
    InvalidTransition,
    OrderStatus,
    can_transition,
)

from .factories import make_order

pytestmark = pytest.mark.django_db

HAPPY_PATH = [OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.SHIPPED, OrderStatus.DELIVERED]


def test_every_status_has_its_transitions_defined():
    assert set(ALLOWED_TRANSITIONS) == set(OrderStatus)


def test_final_statuses_cannot_go_back_to_earlier_steps():
    for status in FINAL_STATUSES:
        assert not can_transition(status, OrderStatus.PENDING_PAYMENT)
        assert not can_transition(status, OrderStatus.PAID)


def test_the_happy_path_is_recorded_step_by_step_as_a_timeline(product):
    order = make_order((product, 1))
    for status in HAPPY_PATH:
        order_transition(order=order, to_status=status, cause=f"test: {status}")
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    steps = list(order.transitions.values_list("from_status", "to_status", "cause"))
    assert steps[0] == ("", "pending_payment", "checkout")
    assert [to for _from, to, _cause in steps[1:]] == HAPPY_PATH
    assert all(step.created_at for step in order.transitions.all())


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], OrderStatus.SHIPPED),
        ([], OrderStatus.REFUNDED),
        ([OrderStatus.PAID], OrderStatus.CANCELLED),
        ([OrderStatus.PAID], OrderStatus.PAID),
        ([OrderStatus.CANCELLED], OrderStatus.PAID),
    ],
)
def test_invalid_transitions_raise_and_change_nothing(product, path, target):
    order = make_order((product, 1))
    for status in path:
        order_transition(order=order, to_status=status, cause="setup")
    recorded = OrderTransition.objects.filter(order=order).count()
    with pytest.raises(InvalidTransition):
        order_transition(order=order, to_status=target, cause="bad")
    order.refresh_from_db()
    assert order.status == (path[-1] if path else OrderStatus.PENDING_PAYMENT)
    assert OrderTransition.objects.filter(order=order).count() == recorded


def test_cancelling_an_unpaid_order_puts_its_units_back_on_sale(product):
    order = make_order((product, 3))
    assert Product.objects.get(pk=product.pk).stock == 7
    order_cancel(order=order, cause="shopper changed their mind")
    assert Product.objects.get(pk=product.pk).stock == 10
    assert order.status == OrderStatus.CANCELLED


def test_a_paid_order_cannot_be_cancelled_only_refunded(product):
    order = make_order((product, 1))
    order_transition(order=order, to_status=OrderStatus.PAID, cause="payment")
    with pytest.raises(InvalidTransition, match="cannot become cancelled"):
        order_cancel(order=order, cause="too late")
    order_transition(order=order, to_status=OrderStatus.REFUNDED, cause="refund")
    assert order.is_final


def test_fulfilment_needs_a_paid_order(product, staff_user):
    order = make_order((product, 1))
    with pytest.raises(InvalidTransition):
        order_mark_fulfilled(order=order, actor=staff_user)
    order_transition(order=order, to_status=OrderStatus.PAID, cause="payment")
    order_mark_fulfilled(order=order, actor=staff_user)
    last = order.transitions.order_by("-id").first()
    assert last is not None
    assert (last.to_status, last.actor) == (OrderStatus.FULFILLED, staff_user)
