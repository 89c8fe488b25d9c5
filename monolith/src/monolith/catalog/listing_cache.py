"""The listing's result count, kept in Django's cache between catalog changes.

`COUNT(*)` over the active products costs a scan that grows with the catalog (about 3 ms at
10,000 products, ten times that at 100,000), and every shopper asking for the same filter
gets the same number. The count is cached under a generation that every change to which
products are listed (a product saved or deleted, a category saved, a bulk seed) moves on, so
the next page after such a change counts again. Bulk `UPDATE`s of stock or price do not change
which products match, so they need not move it.
"""

from __future__ import annotations

from collections.abc import Callable
from hashlib import sha256

from django.core.cache import cache

GENERATION_KEY = "catalog:listing-generation"
# A bound on how long a count can outlive a change made behind Django's back (raw SQL).
COUNT_TTL_SECONDS = 300


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


def listing_count(*, category: str, search: str, count: Callable[[], int]) -> int:
    """The number of listed products for this filter, counted at most once per generation."""
    digest = sha256(f"{category}\x00{search}".encode()).hexdigest()[:32]
    key = f"catalog:listing-count:{listing_generation()}:{digest}"
    counted = cache.get(key)
    if counted is None:
        counted = count()
        cache.set(key, counted, timeout=COUNT_TTL_SECONDS)
    return int(counted)
