"""The catalog's version: a value that every change a shopper could see on a catalog page moves on.

Shopper pages and listing counts are cached under it (page_cache.py), so a change shows on
the very next request to every page, whichever process made it: the version lives in Django's
cache, which every process that serves or changes the catalog shares (the web server, the
worker that cancels orders and so releases stock, `seed_demo`). That is why `make run`'s
embedded default is a file cache and the distributed run's is Redis (settings/base.py).

What moves it: a product, category or image saved or deleted (signals.py), stock taken or
given back by orders (orders/services.py), a bulk seed (demo/services.py). Each move writes a
new random value rather than incrementing, so two changes racing on a backend without an
atomic increment (files) can never leave behind a value that a page was cached under.
"""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest

VERSION_KEY = "catalog:version"


def catalog_version() -> str:
    """The current version; the first caller after a flush or an eviction makes one."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        # Another process's add may have won the race: read what is there now.
        version = cache.get(VERSION_KEY) or uuid.uuid4().hex
    return str(version)


def catalog_version_for(request: HttpRequest) -> str:
    """The version everything one request reads is cached under, read once per request: the
    page and the cart's count shown in it then come from one state of the catalog, and the
    cache is asked once."""
    version: str | None = getattr(request, "catalog_version", None)
    if version is None:
        version = catalog_version()
        request.catalog_version = version  # type: ignore[attr-defined]
    return version


def catalog_version_move() -> None:
    """A new version at once; use catalog_changed() inside a transaction."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def catalog_changed() -> None:
    """Say that what shoppers see of the catalog may have changed.

    The version moves now and again once the transaction commits: a page rendered between
    the change and the commit read the old rows and was cached under the first new value.
    """
    catalog_version_move()
    transaction.on_commit(catalog_version_move)
