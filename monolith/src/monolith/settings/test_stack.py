"""Test settings for the running stack's workers (tests/running_stack.py) in a placement.

They share the live server's cache (CACHE_URL, a folder of the test's own): in the monolith
placement a worker records job results itself, and the catalog version it moves
(catalog/catalog_version.py) must reach the pages the live server caches, as it does in a
deployment, where every process shares one cache.
"""

from .base import env
from .test import *  # noqa: F403

CACHES = {"default": env.cache_url("CACHE_URL")}
