"""Every admin changelist and change page renders for staff, and the actions use the rules."""

import pytest
from django.contrib import admin
from django.urls import reverse

from monolith.orders.models import Order
from monolith.orders.services import order_transition
from monolith.orders.state_machine import OrderStatus

from .factories import make_cart, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated(product, shopper):
    make_cart((product, 1), user=shopper)
    return make_order((product, 2), user=shopper)


def registered_models():
    return [model for model in admin.site._registry if model._meta.app_label != "auth"] + [
        model for model in admin.site._registry if model._meta.app_label == "auth"
    ]


def test_every_changelist_and_change_page_renders(client, staff_user, populated):
    client.force_login(staff_user)
    for model in registered_models():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        assert client.get(changelist, {"q": "x"}).status_code == 200, changelist
        instance = model._default_manager.first()
        if instance is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[instance.pk])
            assert client.get(change).status_code == 200, change


def test_frozen_order_fields_cannot_be_edited_in_the_admin(client, staff_user, populated):
    client.force_login(staff_user)
    url = reverse("admin:orders_order_change", args=[populated.pk])
    response = client.post(url, {"total": "0.01", "status": "delivered", "email": "x@y.z"})
    populated.refresh_from_db()
    assert response.status_code in {200, 302}
    assert populated.status == OrderStatus.PENDING_PAYMENT
    assert str(populated.total) != "0.01"


def run_action(client, action, orders):
    return client.post(
        reverse("admin:orders_order_changelist"),
        {"action": action, "_selected_action": [order.pk for order in orders]},
        follow=True,
    )


def test_admin_actions_go_through_the_state_machine(client, staff_user, product):
    client.force_login(staff_user)
    unpaid, paid = make_order((product, 1)), make_order((product, 1))
    order_transition(order=paid, to_status=OrderStatus.PAID, cause="payment")

    response = run_action(client, "mark_orders_fulfilled", [unpaid, paid])
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.FULFILLED
    assert Order.objects.get(pk=unpaid.pk).status == OrderStatus.PENDING_PAYMENT
    assert "cannot become fulfilled" in response.content.decode()

    run_action(client, "cancel_orders", [unpaid])
    assert Order.objects.get(pk=unpaid.pk).status == OrderStatus.CANCELLED
    step = Order.objects.get(pk=unpaid.pk).transitions.order_by("-id").first()
    assert step is not None
    assert step.actor == staff_user
