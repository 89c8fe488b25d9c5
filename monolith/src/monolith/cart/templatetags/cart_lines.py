"""Template helpers for quantity inputs, so every form offers the same limits."""

from __future__ import annotations

from django import template

from monolith.cart.services import MAX_QUANTITY_PER_LINE
from monolith.catalog.models import Product

register = template.Library()


@register.filter(name="quantity_limit")
def quantity_limit(product: Product) -> int:
    """The most units of a product one cart line may hold now: stock, capped per line."""
    return max(0, min(product.stock, MAX_QUANTITY_PER_LINE))
