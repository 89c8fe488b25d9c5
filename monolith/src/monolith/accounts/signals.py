"""What a signed-in page reads from the cache follows the account (backends.py), and a
sign-out changes the CSRF secret as a sign-in does."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.middleware.csrf import rotate_token

from .backends import user_cached_refresh
from .models import User


@receiver(post_save, sender=User, dispatch_uid="accounts.user_saved_refreshes_cache")
@receiver(post_delete, sender=User, dispatch_uid="accounts.user_deleted_refreshes_cache")
def user_cache_refresh_on_change(sender: type[User], instance: User, **_: Any) -> None:
    user_cached_refresh(instance.pk)


@receiver(user_logged_out, dispatch_uid="accounts.csrf_token_rotated_on_logout")
def csrf_token_rotate_on_logout(sender: Any, request: HttpRequest | None, **_: Any) -> None:
    """Django rotates the token at sign-in; at sign-out too, so no form of the signed-in
    shopper's pages still posts once they have left."""
    if request is not None:
        rotate_token(request)
