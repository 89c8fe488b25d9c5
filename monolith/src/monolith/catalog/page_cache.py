"""Catalog pages rendered once per catalog version and URL, and served whole to every shopper.

A catalog page (the cards, filters, pagination; a product's gallery, price, stock and
add-to-cart form; base.html's header and footer around them) is the same for every shopper
who asks for the same URL: what is one shopper's own is not in it. Forms carry a CSRF slot
(core/csrf_token_slot.py), and the header (account links, mini cart) and the messages are
shopper parts, shown as to a guest with nothing of their own and filled in per response
(core/shopper_parts.py). So the whole page is rendered once per catalog version
(catalog_version.py) and canonical URL, and a hit makes no query at all, for a guest as for
a signed-in shopper, whose user and cart count are read from the cache too.

The listing's result count is cached the same way, per filter, so the pages of one listing
count once per version: `COUNT(*)` costs a scan that grows with the catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256
from typing import TypeVar, cast

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.safestring import SafeString

from .catalog_version import catalog_version, catalog_version_for

T = TypeVar("T")

# A bound on how long a page can outlive a change made behind Django's back (raw SQL).
TTL_SECONDS = 300


@dataclass(frozen=True)
class ShopperPage:
    """A catalog page's own content; catalog/shopper_page.html puts it into base.html."""

    title: str
    content: SafeString
    description: str = ""


def _cached_per_version(
    kind: str, parts: tuple[object, ...], compute: Callable[[], T], *, version: str | None = None
) -> T:
    """What `compute` answers for these parts, computed at most once per catalog version
    (`version` when the caller has read it already)."""
    digest = sha256("\x00".join(str(part) for part in parts).encode()).hexdigest()[:32]
    key = f"catalog:{kind}:{version or catalog_version()}:{digest}"
    return cast(T, cache.get_or_set(key, compute, timeout=TTL_SECONDS))


def whole_page_cached(*, request: HttpRequest, url: str, render: Callable[[], bytes]) -> bytes:
    """The whole page at this URL, slots and shared shopper parts included, rendered at most
    once per catalog version (`render` may raise Http404: nothing is cached then)."""
    return _cached_per_version("whole-page", (url,), render, version=catalog_version_for(request))


def listing_count(*, category: str, search: str, count: Callable[[], int]) -> int:
    """The number of listed products for this filter, counted at most once per version."""
    return _cached_per_version("listing-count", (category, search), count)
