from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from monolith.accounts.models import User

from .services import cart_adopt_session_cart


@receiver(user_logged_in, dispatch_uid="cart_adopt_session_cart")
def adopt_session_cart_on_login(
    sender: Any, request: HttpRequest | None, user: User, **kwargs: Any
) -> None:
    if request is not None and hasattr(request, "session"):
        cart_adopt_session_cart(request=request, user=user)
