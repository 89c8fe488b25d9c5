"""Per-shopper data that every page reads, kept in Django's cache and refreshed when it changes.

A signed-in page needs the shopper's user row and their cart's count; read from the database
on every request they cost more than the rest of a cached page (docs/benchmarks/pages.md).
So they are read with `cache.get_or_set`, and whoever changes them calls
`cached_value_refresh`, which forgets the value at once (a read later in the same
transaction, or in a test that never commits, loads the change) and stores a fresh one once
the transaction commits.

Why set after commit rather than only delete: a request that read the old rows just before
the commit could store them just after the delete, and keep them until the entry expires.
`get_or_set` stores a miss with `add`, which never replaces a value that is there, so the
value set after the commit wins over any read that began before it. (Django's file cache
checks and writes in two steps, so there a read racing the commit to the microsecond can
still win; the entry's timeout bounds that, as it bounds a change made behind Django's back.)
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction


def cached_value_refresh(
    *, key: Callable[[], str], load: Callable[[], object], timeout: int
) -> None:
    """The value under `key()` changed: forget it now, store `load()` after commit.

    `key` is called again after the commit, for keys that carry a version that may have moved.
    """
    cache.delete(key())

    def store() -> None:
        cache.set(key(), load(), timeout=timeout)

    transaction.on_commit(store)
