"""Reaching the machine's real services from tests, and what to do when one is missing."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

DEFAULT_URLS = {
    "postgres": "postgres://postgres@127.0.0.1:5432/postgres",
    "redis": "redis://127.0.0.1:6379/15",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
}
ENVIRONMENT = {
    "postgres": "TEST_POSTGRES_URL",
    "redis": "TEST_REDIS_URL",
    "rabbitmq": "TEST_RABBITMQ_URL",
}


def service_missing(reason: str) -> None:
    """Fail under CI=true, skip with the reason printed otherwise. Never returns."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service is a failure)", pytrace=False)
    pytest.skip(reason)


def service_url(kind: str) -> str:
    return os.environ.get(ENVIRONMENT[kind], DEFAULT_URLS[kind])


def reachable(url: str, *, timeout: float = 2.0) -> bool:
    """Whether something accepts TCP connections at the URL's host and port."""
    parts = urlsplit(url)
    default_ports = {"postgres": 5432, "redis": 6379, "amqp": 5672}
    port = parts.port or default_ports.get(parts.scheme, 0)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def require(kind: str) -> str:
    """The URL of a reachable real service of this kind, or fail/skip the test."""
    url = service_url(kind)
    if not reachable(url):
        service_missing(f"{kind} is not reachable at {urlsplit(url).netloc}")
    return url
