"""The listing's result count and each page's product ids, kept in Django's cache.

`COUNT(*)` over the active products costs a scan that grows with the catalog (about 3 ms at
10,000 products, ten times that at 100,000), and every shopper asking for the same filter
gets the same number. The count is cached under a generation that every change to which
products are listed (a product saved or deleted, a category saved, a bulk seed) moves on, so
the next page after such a change counts again. The same holds for which products a page
shows, in which order. Bulk `UPDATE`s of stock (orders) change neither, so they need not move it.
"""

from __future__ import annotations

from collections.abc import Callable
from hashlib import sha256
from typing import TypeVar, cast

from django.core.cache import cache

GENERATION_KEY = "catalog:listing-generation"
# A bound on how long a count can outlive a change made behind Django's back (raw SQL).
TTL_SECONDS = 300

T = TypeVar("T")


def listing_generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        generation = cache.get(GENERATION_KEY, 1)
    return int(generation)


def listing_changed() -> None:
    """Say that the set of listed products may have changed: counts are made again."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not there yet (fresh or evicted cache): any new value is new
        cache.add(GENERATION_KEY, 1, timeout=None)


def _cached_per_generation(kind: str, parts: tuple[object, ...], compute: Callable[[], T]) -> T:
    digest = sha256("\x00".join(str(part) for part in parts).encode()).hexdigest()[:32]
    key = f"catalog:{kind}:{listing_generation()}:{digest}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, timeout=TTL_SECONDS)
    return cast(T, found)


def listing_count(*, category: str, search: str, count: Callable[[], int]) -> int:
    """The number of listed products for this filter, counted at most once per generation."""
    return _cached_per_generation("listing-count", (category, search), count)


def listing_page_ids(
    *, category: str, search: str, sort: str, page: int, ids: Callable[[], list[int]]
) -> list[int]:
    """The ids on one listing page, in order, found (sorted, ranked) at most once per generation.

    A deep page's OFFSET and a search's ranking read and sort many rows; the products
    themselves are then read by primary key, fresh on every request, so their price, stock,
    name and images are always current. The order only changes when a product is saved.
    """
    return _cached_per_generation("listing-page", (category, search, sort, page), ids)
