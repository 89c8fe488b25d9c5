"""Every row lock goes through core.row_locks, which knows the order they are taken in."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import transaction

from monolith.catalog.models import Product
from monolith.core.row_locks import LOCK_ORDER, UndocumentedLock, rows_locked
from monolith.orders.models import Payment

from .factories import make_order

pytestmark = pytest.mark.django_db


def test_the_lock_order_names_models_that_exist() -> None:
    for label in LOCK_ORDER:
        apps.get_model(label)


def test_a_lock_the_order_does_not_name_is_refused(product) -> None:
    with transaction.atomic(), pytest.raises(UndocumentedLock, match=r"catalog\.Product"):
        rows_locked(Product.objects.filter(pk=product.pk))


def test_payments_are_locked_with_their_orders_in_the_orders_id_order(product) -> None:
    orders = [make_order((product, 1)) for _ in range(3)]

    with transaction.atomic():
        payments = rows_locked(
            Payment.objects.filter(order__in=orders).order_by("-pk"), with_related="order"
        )

    assert [payment.order_id for payment in payments] == sorted(order.pk for order in orders)
    assert [payment.order.number for payment in payments] == [order.number for order in orders]
