"""Reads of orders: a shopper's orders and one order's page."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet

from monolith.accounts.models import User

from .models import Order, OrderTransition

SESSION_ORDERS_KEY = "order_ids"


def _with_details(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.select_related("payment").prefetch_related(
        "lines",
        Prefetch("transitions", queryset=OrderTransition.objects.order_by("created_at", "id")),
    )


def order_get_for_user(*, public_id: uuid.UUID, user: User) -> Order:
    """One of this user's orders with lines and timeline; Order.DoesNotExist otherwise."""
    return _with_details(Order.objects.filter(user=user)).get(public_id=public_id)


def order_list_for_user(*, user: User) -> QuerySet[Order]:
    return Order.objects.filter(user=user).order_by("-created_at", "-id")


def order_visible_to(
    *,
    public_id: uuid.UUID,
    user: User | AnonymousUser,
    session_order_ids: list[int],
) -> Order:
    """The order with lines and timeline if this shopper may see it, else Order.DoesNotExist.

    Signed-in shoppers see their own orders; a guest sees the orders placed in this session.
    """
    order = _with_details(Order.objects.all()).get(public_id=public_id)
    owns = user.is_authenticated and order.user_id == user.pk
    if owns or order.pk in session_order_ids or getattr(user, "is_staff", False):
        return order
    raise Order.DoesNotExist


def payment_page_url(*, order: Order, return_url: str) -> str:
    """Where the shopper pays: the provider's page for this order's payment, then back."""
    payment = order.payment
    query = urlencode(
        {
            "reference": payment.reference,
            "amount": f"{payment.amount:.2f}",
            "currency": payment.currency,
            "order": order.number,
            "return_url": return_url,
        }
    )
    return f"{settings.PAYMENT_PROVIDER_URL.rstrip('/')}/pay?{query}"
