from decimal import Decimal

import pytest

from monolith.catalog.models import Product
from monolith.orders.models import Order, Payment
from monolith.orders.services import EmptyCart, MixedCurrencies, OutOfStock, order_place
from monolith.orders.state_machine import OrderStatus

from .factories import ADDRESS, make_cart, make_order, make_product

pytestmark = pytest.mark.django_db


def test_checkout_freezes_prices_and_totals(category):
    mug = make_product(category=category, name="Mug", price="12.50", stock=5)
    bowl = make_product(category=category, name="Bowl", price="7.25", stock=5)
    order = make_order((mug, 2), (bowl, 1))
    Product.objects.filter(pk=mug.pk).update(price=Decimal("99.00"), name="Renamed")

    order = Order.objects.get(pk=order.pk)
    lines = {line.sku: line for line in order.lines.all()}
    assert lines[mug.sku].unit_price == Decimal("12.50")
    assert lines[mug.sku].name == "Mug"
    assert lines[mug.sku].line_total == Decimal("25.00")
    assert order.subtotal == Decimal("32.25")
    assert order.shipping == Decimal("4.90")
    assert order.tax == Decimal("7.43")  # (32.25 + 4.90) × 0.20 = 7.43
    assert order.total == Decimal("44.58")
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_checkout_reserves_stock_and_empties_the_cart(product):
    cart = make_cart((product, 4))
    order_place(cart=cart, email="a@example.com", shipping=ADDRESS)
    assert Product.objects.get(pk=product.pk).stock == 6
    assert not cart.lines.exists()


def test_checkout_creates_a_pending_payment_with_a_unique_reference(product):
    first = make_order((product, 1))
    second = make_order((product, 1))
    assert first.payment.status == "pending"
    assert first.payment.amount == first.total
    assert first.payment.reference.startswith("pay_")
    assert first.payment.reference != second.payment.reference
    assert Payment.objects.count() == 2


def test_one_sold_out_line_reserves_nothing_at_all(category):
    plenty = make_product(category=category, name="Plenty", stock=10)
    scarce = make_product(category=category, name="Scarce", stock=1)
    cart = make_cart((plenty, 3), (scarce, 2))
    with pytest.raises(OutOfStock, match="Scarce"):
        order_place(cart=cart, email="a@example.com", shipping=ADDRESS)
    assert Product.objects.get(pk=plenty.pk).stock == 10
    assert Product.objects.get(pk=scarce.pk).stock == 1
    assert not Order.objects.exists()
    assert cart.lines.count() == 2


def test_a_product_withdrawn_from_sale_is_left_out_of_the_order(category):
    kept = make_product(category=category, name="Kept", price="10.00", stock=10)
    retired = make_product(category=category, name="Retired", stock=10, is_active=False)
    order = make_order((kept, 1), (retired, 1))
    assert [line.name for line in order.lines.all()] == ["Kept"]
    assert order.subtotal == Decimal("10.00")
    assert Product.objects.get(pk=retired.pk).stock == 10
    with pytest.raises(EmptyCart):
        make_order((retired, 1))


def test_one_order_takes_one_currency(category):
    euro = make_product(category=category, name="Euro", stock=10)
    franc = make_product(category=category, name="Franc", stock=10)
    Product.objects.filter(pk=franc.pk).update(currency="CHF")
    franc.refresh_from_db()
    with pytest.raises(MixedCurrencies):
        make_order((euro, 1), (franc, 1))


def test_an_empty_cart_cannot_check_out():
    with pytest.raises(EmptyCart):
        order_place(cart=make_cart(), email="a@example.com", shipping=ADDRESS)
