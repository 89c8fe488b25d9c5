"""Reads of carts: which cart a request has, and what it holds and costs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum
from django.http import HttpRequest

from monolith.catalog.catalog_version import catalog_version, catalog_version_for
from monolith.catalog.models import Product, for_sale_condition
from monolith.core.money import Totals, totals_for

from .models import Cart, CartLine

SESSION_CART_KEY = "cart_id"
# A bound on how long a change made behind the cart services' back can go unseen.
CART_COUNT_TTL_SECONDS = 300


def cart_for_request(request: HttpRequest) -> Cart | None:
    """The cart this request owns: the user's when signed in, else the session's."""
    if request.user.is_authenticated:
        return Cart.objects.filter(user=request.user).first()
    cart_id = request.session.get(SESSION_CART_KEY)
    if cart_id is None:
        return None
    return Cart.objects.filter(pk=cart_id, user__isnull=True).first()


def cart_get_for_shopper(*, public_id: uuid.UUID, user_id: int | None) -> Cart:
    """The cart behind a public id, for the shopper `user_id` (None: a guest).

    A guest's cart belongs to whoever holds its id; a signed-in shopper's cart only to them.
    Raises Cart.DoesNotExist otherwise, the same for a cart that is someone else's as for
    one that does not exist, so ids cannot be probed.
    """
    cart = Cart.objects.filter(public_id=public_id).first()
    if cart is None or (cart.user_id is not None and cart.user_id != user_id):
        raise Cart.DoesNotExist
    return cart


def cart_line_product(*, cart: Cart, sku: str) -> Product:
    """The product of the cart's line for this SKU; raises CartLine.DoesNotExist otherwise."""
    return CartLine.objects.select_related("product").get(cart=cart, product__sku=sku).product


def cart_item_count_for_request(request: HttpRequest) -> int:
    """The units in this request's cart (as cart_for_request finds it), from the cache.

    The header shows it on every page: it is counted in one query on a miss, kept per cart
    owner and catalog version (withdrawing a product moves the version and drops it from the
    count), and refreshed by every change to the cart (signals.py).
    """
    if request.user.is_authenticated:
        owner = CartOwner(user_id=request.user.pk)
    else:
        cart_id = request.session.get(SESSION_CART_KEY)
        if cart_id is None:
            return 0
        owner = CartOwner(cart_id=int(cart_id))
    key = owner.count_key(version=catalog_version_for(request))
    return cast(int, cache.get_or_set(key, owner.count, timeout=CART_COUNT_TTL_SECONDS))


@dataclass(frozen=True)
class CartOwner:
    """Whose cart: a signed-in shopper's (by user) or a guest's (by cart, from the session)."""

    user_id: int | None = None
    cart_id: int | None = None

    @classmethod
    def of(cls, cart: Cart) -> CartOwner:
        return cls(user_id=cart.user_id) if cart.user_id is not None else cls(cart_id=cart.pk)

    def count_key(self, *, version: str | None = None) -> str:
        """Where the count is cached under the catalog `version` (the current one if None)."""
        owner = f"user-{self.user_id}" if self.user_id is not None else f"cart-{self.cart_id}"
        return f"cart:item-count:{owner}:{version or catalog_version()}"

    def count(self) -> int:
        """The units of products for sale in the owner's cart, in one query."""
        if self.user_id is not None:
            lines = CartLine.objects.filter(cart__user_id=self.user_id)
        elif self.cart_id is not None:
            lines = CartLine.objects.filter(cart_id=self.cart_id, cart__user__isnull=True)
        else:
            return 0
        counted = lines.filter(for_sale_condition("product__")).aggregate(count=Sum("quantity"))
        return int(counted["count"] or 0)


@dataclass(frozen=True)
class CartSummary:
    lines: list[CartLine]
    item_count: int
    totals: Totals

    @property
    def is_empty(self) -> bool:
        return not self.lines


def shop_totals(line_totals: list[Decimal]) -> Totals:
    """Totals under the shop's configured shipping and tax rules."""
    return totals_for(
        line_totals,
        shipping_fee=Decimal(settings.TESSERA_SHIPPING_FEE),
        free_shipping_from=Decimal(settings.TESSERA_FREE_SHIPPING_FROM),
        tax_rate=Decimal(settings.TESSERA_TAX_RATE),
    )


def cart_summary(cart: Cart | None) -> CartSummary:
    """Lines with their products and images, the item count, and the totals, in two queries.

    Lines of products that were withdrawn from sale are left out: they cannot be bought.
    """
    lines: list[CartLine] = []
    if cart is not None:
        lines = list(
            cart.lines.filter(for_sale_condition("product__"))
            .select_related("product", "product__category")
            .prefetch_related("product__images")
            .order_by("id")
        )
    return CartSummary(
        lines=lines,
        item_count=sum(line.quantity for line in lines),
        totals=shop_totals([line.total for line in lines]),
    )
