"""Template helpers for cart lines and quantity inputs, so every page shows the same figures."""

from __future__ import annotations

from decimal import Decimal

from django import template

from monolith.cart.models import CartLine
from monolith.cart.selectors import line_total as cart_line_total
from monolith.cart.services import MAX_QUANTITY_PER_LINE
from monolith.catalog.models import Product

register = template.Library()


@register.filter(name="line_total")
def line_total(line: CartLine) -> Decimal:
    """`{{ line|line_total|money }}`: the line's price times quantity, rounded to cents."""
    return cart_line_total(line)


@register.filter(name="quantity_limit")
def quantity_limit(product: Product) -> int:
    """The most units of a product one cart line may hold now: stock, capped per line."""
    return max(0, min(product.stock, MAX_QUANTITY_PER_LINE))
