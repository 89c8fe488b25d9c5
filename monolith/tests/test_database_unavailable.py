"""A database that does not answer is a broken dependency: 503 with Retry-After, never 500.

The database is made unreachable for real: this process's connection is pointed at a port
nothing listens on, or PostgreSQL ends it from another session, as while PostgreSQL restarts
(the fault suite restarts it under load: infra/tests/test_faults.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from tessera_runtime.problems.answers import PROBLEM_MEDIA_TYPE
from tessera_testsupport import free_port

from .database_sessions import other_session

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


@contextmanager
def connection_dropped_on_session_save() -> Iterator[None]:
    """PostgreSQL drops this process's connection (pg_terminate_backend from a second
    connection, as a restart does) just as the session middleware writes the session."""

    def drop_before_session_update(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        if sql.startswith('UPDATE "django_session"'):
            with other_session() as other:
                other.execute(
                    "SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid]
                )
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(drop_before_session_update):
            yield
    finally:
        connection.close()


def test_a_connection_lost_while_the_session_is_saved_is_answered_503_not_400(product) -> None:
    shopper = Client(raise_request_exception=False)
    shopper.session.save()  # an existing session, so the cart's first add updates its row

    with connection_dropped_on_session_save():
        answer = shopper.post(reverse("cart:add", args=[product.pk]))

    # Django's own answer would be 400: "the session was deleted before the request completed".
    assert answer.status_code == 503
    assert int(answer["Retry-After"]) > 0
