"""The order lifecycle: the one place that says which status may follow which.

pending_payment → paid → fulfilled → shipped → delivered
pending_payment → cancelled            (stock goes back on the shelf)
paid | fulfilled | shipped | delivered → refunded
"""

from __future__ import annotations

from django.db import models

from monolith.core.errors import DomainError


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    PAID = "paid", "Paid"
    FULFILLED = "fulfilled", "Fulfilled"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.FULFILLED, OrderStatus.REFUNDED}),
    OrderStatus.FULFILLED: frozenset({OrderStatus.SHIPPED, OrderStatus.REFUNDED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED, OrderStatus.REFUNDED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}

# Statuses of an order whose payment was taken and not given back: sales in a report, and the
# orders a late refund event may apply to.
PAYMENT_TAKEN_STATUSES = frozenset(
    {OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.SHIPPED, OrderStatus.DELIVERED}
)

# Statuses after which nothing changes for the shopper on its own: the order page stops polling.
FINAL_STATUSES = frozenset({OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REFUNDED})


class InvalidTransition(DomainError):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(
            f"An order that is {OrderStatus(current).label.lower()} cannot become "
            f"{OrderStatus(target).label.lower()}."
        )
        self.current = current
        self.target = target


def can_transition(current: str, target: str) -> bool:
    return OrderStatus(target) in ALLOWED_TRANSITIONS[OrderStatus(current)]


def check_transition(current: str, target: str) -> None:
    """Raise InvalidTransition unless `target` may follow `current`."""
    if not can_transition(current, target):
        raise InvalidTransition(current, target)


def is_final(status: str) -> bool:
    return OrderStatus(status) in FINAL_STATUSES
