"""A signed-in shopper with a cart of three items, for the pages benchmark.

Run inside the bench site (`manage.py shell -c ...`); prints the session key the load
generator sends as its cookie, so the pages it measures are that shopper's pages.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.test import Client

from monolith.accounts.models import User
from monolith.cart.services import cart_add_product, cart_create
from monolith.catalog.models import Product

USERNAME = "bench-shopper"
CART_LINES = 3


def shopper_session_create() -> str:
    """A fresh shopper, their three-line cart, and a signed-in session; its key."""
    User.objects.filter(username=USERNAME).delete()
    user = User.objects.create_user(
        username=USERNAME, email="bench-shopper@example.com", password=secrets.token_urlsafe(24)
    )
    cart, _ = cart_create(user=user)
    # Through the cart services, as a shopper's clicks would: they keep the cached count true.
    for product in Product.objects.filter(is_active=True, stock__gt=0).order_by("id")[:CART_LINES]:
        cart_add_product(cart=cart, product=product, quantity=1)
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def main() -> None:
    print(shopper_session_create())
