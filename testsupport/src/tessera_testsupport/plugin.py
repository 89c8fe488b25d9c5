"""The pytest plugin: fixtures for the real services every suite may need."""

from __future__ import annotations

import pytest

from .services import require


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The real PostgreSQL server (its `postgres` database)."""
    return require("postgres")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The real Redis server, on a database number the suites may flush."""
    return require("redis")


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The real RabbitMQ broker."""
    return require("rabbitmq")
