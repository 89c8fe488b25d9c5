"""The signed-in user of every request, read from Django's cache instead of the database.

Django's AuthenticationMiddleware finds the user through the session (which `cached_db`
reads from the cache) and then the backend's `get_user`: ModelBackend queries the user's row
on every request. This backend keeps that row in the cache under the user's id; any save or
delete of a user refreshes it (signals.py), so a new name shows on the next page, and a
changed password or a deactivated account signs the other sessions out on their next request
as with ModelBackend (Django checks the session's hash against the cached row's password).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

from monolith.core.cached_reads import cached_value_refresh

from .models import User

# A bound on how long a change made behind Django's back (a bulk update) can go unseen.
USER_TTL_SECONDS = 300


def _user_key(user_id: Any) -> str:
    return f"accounts:user:{user_id}"


def _user_load(user_id: Any) -> User | None:
    return User._default_manager.filter(pk=user_id).first()


def user_cached(user_id: Any) -> User | None:
    """The user with this id, from the cache when it holds them; None if there is none."""
    user: User | None = cache.get_or_set(
        _user_key(user_id), lambda: _user_load(user_id), timeout=USER_TTL_SECONDS
    )
    return user


def user_cached_refresh(user_id: Any) -> None:
    """Say that this user's row changed (or is gone)."""
    cached_value_refresh(
        key=lambda: _user_key(user_id),
        load=lambda: _user_load(user_id),
        timeout=USER_TTL_SECONDS,
    )


class CachedModelBackend(ModelBackend):
    """ModelBackend whose per-request user lookup reads the cache first."""

    def get_user(self, user_id: Any) -> User | None:
        user = user_cached(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
