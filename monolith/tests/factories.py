"""Tiny builders for test data: explicit arguments, sensible defaults, real rows."""

from __future__ import annotations

import itertools
from decimal import Decimal

from monolith.accounts.models import User
from monolith.cart.models import Cart, CartLine
from monolith.catalog.models import Category, Product
from monolith.orders.models import Order
from monolith.orders.services import ShippingAddress, order_place

_sequence = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"
ADDRESS = ShippingAddress(
    name="Alice Shopper",
    line1="1 Market Street",
    postal_code="1011",
    city="Amsterdam",
    country="NL",
)


def make_category(name: str = "Kitchen") -> Category:
    number = next(_sequence)
    return Category.objects.create(name=name, slug=f"{name.lower()}-{number}")


def make_product(
    *,
    category: Category,
    name: str = "Mug",
    price: str = "10.00",
    stock: int = 10,
    is_active: bool = True,
) -> Product:
    number = next(_sequence)
    return Product.objects.create(
        sku=f"T-{number:06d}",
        name=name,
        slug=f"{name.lower().replace(' ', '-')}-{number}",
        description=f"A {name.lower()} for tests",
        category=category,
        price=Decimal(price),
        stock=stock,
        is_active=is_active,
    )


def make_user(username: str, *, is_staff: bool = False) -> User:
    return User.objects.create_user(
        username=username,
        email=f"{username}@example.com",
        password=PASSWORD,
        is_staff=is_staff,
        is_superuser=is_staff,
    )


def make_cart(*lines: tuple[Product, int], user: User | None = None) -> Cart:
    cart = Cart.objects.create(user=user)
    for product, quantity in lines:
        CartLine.objects.create(cart=cart, product=product, quantity=quantity)
    # As the cart services do after changing lines: the cached count follows a saved cart.
    cart.save(update_fields=["updated_at"])
    return cart


def make_order(*lines: tuple[Product, int], user: User | None = None) -> Order:
    return order_place(
        cart=make_cart(*lines), email="alice@example.com", shipping=ADDRESS, user=user
    )
