"""The pytest plugin: fixtures for the real services every suite may need."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .servers import require


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


@pytest.fixture
def sqs_url() -> Iterator[str]:
    """An empty local SQS endpoint (moto) that this process's boto clients talk to; yields
    the broker URL, ``sqs://``. For a subprocess, use
    ``tessera_testsupport.sqs.sqs_endpoint_running`` and pass on its environment."""
    from .sqs import environment_pointing_at, sqs_endpoint_running  # moto: only when asked

    with sqs_endpoint_running() as endpoint, environment_pointing_at(endpoint):
        yield endpoint.url
