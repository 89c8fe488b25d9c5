"""Catalog pages rendered once per catalog version and URL; each shopper's own parts stay live.

A catalog page's content (the cards, filters, pagination; a product's gallery, price, stock
and add-to-cart form) is the same for every shopper who asks for the same URL: forms carry a
CSRF slot, filled per response (core/csrf_token_slot.py), not a shopper's token. So it is
rendered once per catalog version (catalog_version.py) and canonical URL, and a hit makes no
query at all. What differs per shopper (login, mini cart, messages) is in base.html, which
is rendered around the cached content on every request, except for a shopper who has nothing
of their own to show yet (no session, no messages: most first visits, crawlers, links from
elsewhere): their whole page is the same for all of them and is cached whole too.

The listing's result count is cached the same way, per filter, so the pages of one listing
count once per version: `COUNT(*)` costs a scan that grows with the catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256
from typing import TypeVar, cast

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.safestring import SafeString

from .catalog_version import catalog_version

T = TypeVar("T")

# A bound on how long a page can outlive a change made behind Django's back (raw SQL).
TTL_SECONDS = 300


@dataclass(frozen=True)
class ShopperPage:
    """What a catalog page shows every shopper alike; catalog/shopper_page.html wraps it."""

    title: str
    content: SafeString
    description: str = ""


def _cached_per_version(kind: str, parts: tuple[object, ...], compute: Callable[[], T]) -> T:
    """What `compute` answers for these parts, computed at most once per catalog version."""
    digest = sha256("\x00".join(str(part) for part in parts).encode()).hexdigest()[:32]
    key = f"catalog:{kind}:{catalog_version()}:{digest}"
    return cast(T, cache.get_or_set(key, compute, timeout=TTL_SECONDS))


def shopper_page_cached(*, url: str, build: Callable[[], ShopperPage]) -> ShopperPage:
    """The page at this canonical URL, built at most once per catalog version.

    `build` may raise (Http404): nothing is cached then.
    """
    return _cached_per_version("page", (url,), build)


def shopper_has_nothing_of_their_own(request: HttpRequest) -> bool:
    """No session (so no login, no cart) and no messages waiting: the page is everyone's."""
    return (
        settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
    )


def whole_page_cached(*, url: str, render: Callable[[], bytes]) -> bytes:
    """The whole page at this URL as a shopper with nothing of their own sees it, CSRF slot
    included, rendered at most once per catalog version."""
    return _cached_per_version("whole-page", (url,), render)


def listing_count(*, category: str, search: str, count: Callable[[], int]) -> int:
    """The number of listed products for this filter, counted at most once per version."""
    return _cached_per_version("listing-count", (category, search), count)
