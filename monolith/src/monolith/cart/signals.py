"""Cart side effects: the session cart joins the account at login, and every change to a
cart refreshes its cached count (selectors.cart_item_count_for_request).

The cart services save the cart after every change to its lines (its `updated_at`), so a
saved or deleted cart is the one signal to follow; the admin saves the cart with its lines.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest

from monolith.accounts.models import User
from monolith.core.cached_reads import cached_value_refresh

from .models import Cart
from .selectors import CART_COUNT_TTL_SECONDS, CartOwner
from .services import cart_adopt_session_cart


@receiver(user_logged_in, dispatch_uid="cart_adopt_session_cart")
def adopt_session_cart_on_login(
    sender: Any, request: HttpRequest | None, user: User, **kwargs: Any
) -> None:
    if request is not None and hasattr(request, "session"):
        cart_adopt_session_cart(request=request, user=user)


@receiver(post_save, sender=Cart, dispatch_uid="cart.saved_refreshes_count")
@receiver(post_delete, sender=Cart, dispatch_uid="cart.deleted_refreshes_count")
def cart_count_refresh_on_change(sender: type[Cart], instance: Cart, **_: Any) -> None:
    owner = CartOwner.of(instance)
    cached_value_refresh(key=owner.count_key, load=owner.count, timeout=CART_COUNT_TTL_SECONDS)
