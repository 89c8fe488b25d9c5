"""A database that does not answer is a broken dependency: 503 with Retry-After, never 500.

The database is made unreachable for real: this process's connection is pointed at a port
nothing listens on, as while PostgreSQL restarts (the fault suite restarts it under load:
infra/tests/test_faults.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client
from tessera_runtime.problems.answers import PROBLEM_MEDIA_TYPE
from tessera_testsupport import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def database_down() -> Iterator[None]:
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = free_port()
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port


@pytest.mark.parametrize(
    ("path", "media_type"),
    [("/", "text/html"), ("/api/v1/products", PROBLEM_MEDIA_TYPE)],
    ids=["shop page", "storefront API"],
)
def test_a_request_while_the_database_is_down_is_answered_503_with_retry_after(
    database_down: None, path: str, media_type: str
) -> None:
    answer = Client(raise_request_exception=False).get(path)

    assert answer.status_code == 503
    assert int(answer["Retry-After"]) > 0
    assert answer["Content-Type"].startswith(media_type)
