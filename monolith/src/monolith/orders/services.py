"""Writes to orders: checkout, and every status change through the state machine."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone

from monolith.accounts.models import User
from monolith.cart.models import Cart
from monolith.cart.selectors import cart_summary
from monolith.cart.services import cart_clear
from monolith.catalog.catalog_version import catalog_changed
from monolith.catalog.models import Product
from monolith.core.after_commit import enqueue_after_commit
from monolith.core.errors import DomainError
from monolith.core.row_locks import row_locked, rows_locked

from .invoices import orders_invoice_request
from .models import Order, OrderLine, OrderTransition, Payment, PaymentStatus
from .state_machine import (
    PAYMENT_TAKEN_STATUSES,
    InvalidTransition,
    OrderStatus,
    check_transition,
)

# Queued by name (core/after_commit.py), so this module does not import the tasks that import it.
SHIPMENT_REQUEST_TASK = "orders.order_shipment_request"


class EmptyCart(DomainError):
    def __init__(self) -> None:
        super().__init__("Your cart is empty.")


class MixedCurrencies(DomainError):
    def __init__(self) -> None:
        super().__init__("Your cart holds prices in several currencies; one order takes one.")


class OutOfStock(DomainError):
    def __init__(self, product_name: str) -> None:
        super().__init__(f"Sorry, {product_name} sold out while you were checking out.")
        self.product_name = product_name


@dataclass(frozen=True)
class ShippingAddress:
    name: str
    line1: str
    postal_code: str
    city: str
    country: str
    line2: str = ""


def _new_order_number() -> str:
    # Short enough to read out on the phone, random enough not to be guessed or enumerated.
    return "TS-" + secrets.token_hex(5).upper()


def _reserve_stock(*, product: Product, quantity: int) -> None:
    """Take units off the shelf in one conditional UPDATE: concurrent checkouts cannot oversell.

    The row lock taken by UPDATE makes a racing transaction re-check `stock >= quantity`
    against the committed value, so at most the available units are ever sold.
    """
    taken = (
        Product.objects.for_sale()
        .filter(pk=product.pk, stock__gte=quantity)
        .update(
            # updated_at keys each product card's cached markup; the catalog's version its pages.
            stock=F("stock") - quantity,
            updated_at=Now(),
        )
    )
    if taken != 1:
        raise OutOfStock(product.name)


@transaction.atomic
def order_place(
    *,
    cart: Cart,
    email: str,
    shipping: ShippingAddress,
    user: User | None = None,
) -> Order:
    """Turn a cart into a pending-payment order with frozen prices, reserved stock and a payment.

    Everything happens in one transaction: if any line is out of stock nothing is reserved.
    """
    summary = cart_summary(cart)
    if summary.is_empty:
        raise EmptyCart()
    currencies = {line.product.currency for line in summary.lines}
    if len(currencies) != 1:
        raise MixedCurrencies()
    # Lock rows in a fixed order so that two checkouts of the same products cannot deadlock.
    for line in sorted(summary.lines, key=lambda cart_line: cart_line.product_id):
        _reserve_stock(product=line.product, quantity=line.quantity)
    catalog_changed()  # once for all the lines: pages show the stock
    totals = summary.totals
    order = Order.objects.create(
        number=_new_order_number(),
        user=user,
        email=email,
        currency=currencies.pop(),
        subtotal=totals.subtotal,
        shipping=totals.shipping,
        tax=totals.tax,
        total=totals.total,
        shipping_name=shipping.name,
        shipping_line1=shipping.line1,
        shipping_line2=shipping.line2,
        shipping_postal_code=shipping.postal_code,
        shipping_city=shipping.city,
        shipping_country=shipping.country.upper(),
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=line.product,
            sku=line.product.sku,
            name=line.product.name,
            unit_price=line.product.price,
            quantity=line.quantity,
            line_total=line.total,
        )
        for line in summary.lines
    )
    OrderTransition.objects.create(
        order=order,
        from_status="",
        to_status=OrderStatus.PENDING_PAYMENT,
        cause="checkout",
        actor=user,
    )
    Payment.objects.create(
        order=order,
        reference="pay_" + secrets.token_urlsafe(18),
        amount=order.total,
        currency=order.currency,
    )
    cart_clear(cart=cart)
    return order


def _release_stock(order: Order) -> None:
    for line in order.lines.order_by("product_id"):
        if line.product_id is not None:  # the product may have been deleted since
            Product.objects.filter(pk=line.product_id).update(
                stock=F("stock") + line.quantity, updated_at=Now()
            )
    catalog_changed()


@transaction.atomic
def order_transition(
    *,
    order: Order,
    to_status: OrderStatus,
    cause: str,
    actor: User | None = None,
) -> Order:
    """Move an order to `to_status` if the state machine allows it, and record the step.

    The row is locked first, so two concurrent transitions see each other's result.
    Raises InvalidTransition otherwise.
    """
    locked = row_locked(Order.objects.filter(pk=order.pk))
    check_transition(locked.status, to_status)
    OrderTransition.objects.create(
        order=locked, from_status=locked.status, to_status=to_status, cause=cause, actor=actor
    )
    locked.status = to_status
    locked.save(update_fields=["status", "updated_at"])
    if to_status == OrderStatus.CANCELLED:
        _release_stock(locked)
    order.status = locked.status
    order.updated_at = locked.updated_at
    return locked


def order_cancel(*, order: Order, cause: str, actor: User | None = None) -> Order:
    """Cancel an unpaid order and put its units back on sale."""
    return order_transition(order=order, to_status=OrderStatus.CANCELLED, cause=cause, actor=actor)


@transaction.atomic
def order_mark_fulfilled(*, order: Order, actor: User | None = None) -> Order:
    """Staff packed the parcel: the carrier is asked to collect it once this commits."""
    fulfilled = order_transition(
        order=order, to_status=OrderStatus.FULFILLED, cause="fulfilled by staff", actor=actor
    )
    number = fulfilled.number
    enqueue_after_commit(SHIPMENT_REQUEST_TASK, number)
    return fulfilled


def order_mark_shipped(*, order: Order, cause: str) -> Order:
    """The carrier has the parcel."""
    return order_transition(order=order, to_status=OrderStatus.SHIPPED, cause=cause)


def order_mark_delivered(*, order: Order, cause: str) -> Order:
    """The parcel reached the shopper."""
    return order_transition(order=order, to_status=OrderStatus.DELIVERED, cause=cause)


def order_note_add(*, order: Order, cause: str) -> OrderTransition:
    """Record something that happened to an order without changing its status (a timeline note)."""
    return OrderTransition.objects.create(
        order=order, from_status=order.status, to_status=order.status, cause=cause
    )


@dataclass(frozen=True)
class PaymentReceipt:
    """The provider's word that the payment with this reference succeeded."""

    reference: str
    provider_payment_id: str
    cause: str


# No savepoint of its own: it is all or nothing with its caller's transaction (one opens when
# there is none), and a batch of webhooks pays for every statement.
@transaction.atomic(savepoint=False)
def orders_mark_paid(*, receipts: Sequence[PaymentReceipt]) -> set[str]:
    """The provider took the money: these payments succeeded and their orders become paid,
    in a few statements however many there are; the invoice of each is asked for.

    Only orders still pending payment become paid; their rows and their payments' are locked
    (core.row_locks). Returns the references whose order became paid: the others (unknown,
    already paid, cancelled...) are the caller's to tell apart.
    """
    check_transition(OrderStatus.PENDING_PAYMENT, OrderStatus.PAID)
    by_reference = {receipt.reference: receipt for receipt in receipts}
    payments = rows_locked(
        Payment.objects.filter(
            reference__in=by_reference, order__status=OrderStatus.PENDING_PAYMENT
        ),
        with_related="order",
    )
    if not payments:
        return set()
    now = timezone.now()
    OrderTransition.objects.bulk_create(
        OrderTransition(
            order=payment.order,
            from_status=OrderStatus.PENDING_PAYMENT,
            to_status=OrderStatus.PAID,
            cause=by_reference[payment.reference].cause,
        )
        for payment in payments
    )
    Order.objects.filter(pk__in=[payment.order_id for payment in payments]).update(
        status=OrderStatus.PAID, updated_at=now
    )
    for payment in payments:
        payment.order.status = OrderStatus.PAID
        payment.provider_payment_id = by_reference[payment.reference].provider_payment_id
    # One CASE for the field that differs per row (bulk_update would build one per field).
    Payment.objects.bulk_update(payments, ["provider_payment_id"])
    Payment.objects.filter(pk__in=[payment.pk for payment in payments]).update(
        status=PaymentStatus.SUCCEEDED, updated_at=now
    )
    # The invoice jobs' outbox rows commit with the payments; the relay submits them after.
    orders_invoice_request(orders=[payment.order for payment in payments])
    return {payment.reference for payment in payments}


def order_mark_paid(*, payment: Payment, provider_payment_id: str, cause: str) -> Order:
    """orders_mark_paid for one payment; returns its order, now paid.

    Raises InvalidTransition when the order is not pending payment.
    """
    receipt = PaymentReceipt(
        reference=payment.reference, provider_payment_id=provider_payment_id, cause=cause
    )
    if payment.reference not in orders_mark_paid(receipts=[receipt]):
        current = Order.objects.values_list("status", flat=True).get(pk=payment.order_id)
        raise InvalidTransition(current, OrderStatus.PAID)
    payment.refresh_from_db(fields=["status", "provider_payment_id", "updated_at"])
    payment.order.refresh_from_db()
    return payment.order


@transaction.atomic
def order_payment_failure_record(*, payment: Payment, cause: str) -> OrderTransition:
    """An attempt to pay was declined: the order stays pending, the timeline says why."""
    payment.status = PaymentStatus.FAILED
    payment.save(update_fields=["status", "updated_at"])
    return order_note_add(order=payment.order, cause=cause)


@dataclass(frozen=True)
class RefundReceipt:
    """The provider's word that a payment was refunded in full.

    ``payment`` names it by our reference or by the provider's id for it: a refund event
    may carry either.
    """

    payment: str
    cause: str


@transaction.atomic(savepoint=False)  # as orders_mark_paid
def orders_refund(*, receipts: Sequence[RefundReceipt]) -> set[str]:
    """The money went back to the shoppers in full: these payments are refunded and their
    orders too, in a few statements however many there are.

    Only orders whose payment was taken become refunded; their rows and their payments' are
    locked (core.row_locks). Returns the receipts' ``payment`` names whose order became
    refunded: the others (unknown, not paid yet, refunded already, a second name for a
    payment refunded here) are the caller's to handle one by one.
    """
    by_name = {receipt.payment: receipt for receipt in receipts if receipt.payment}
    if not by_name:
        return set()
    payments = rows_locked(
        Payment.objects.filter(
            Q(reference__in=by_name) | Q(provider_payment_id__in=by_name),
            order__status__in=PAYMENT_TAKEN_STATUSES,
        ),
        with_related="order",
    )
    if not payments:
        return set()
    # The receipt that names each payment (by our reference first, when both are there).
    names = {
        payment.pk: (
            payment.reference if payment.reference in by_name else payment.provider_payment_id
        )
        for payment in payments
    }
    for payment in payments:
        check_transition(payment.order.status, OrderStatus.REFUNDED)
    OrderTransition.objects.bulk_create(
        OrderTransition(
            order=payment.order,
            from_status=payment.order.status,
            to_status=OrderStatus.REFUNDED,
            cause=by_name[names[payment.pk]].cause,
        )
        for payment in payments
    )
    now = timezone.now()
    Order.objects.filter(pk__in=[payment.order_id for payment in payments]).update(
        status=OrderStatus.REFUNDED, updated_at=now
    )
    Payment.objects.filter(pk__in=names).update(status=PaymentStatus.REFUNDED, updated_at=now)
    return set(names.values())


def order_tracking_number_record(*, order_number: str, tracking_number: str) -> None:
    """Keep the carrier's tracking number on the order, for the shopper's page and staff.

    A retried handover records the number the carrier answered again: the last one wins.
    """
    Order.objects.filter(number=order_number).update(
        tracking_number=tracking_number, updated_at=Now()
    )
