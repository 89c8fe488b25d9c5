"""Sessions of their own on the test's PostgreSQL database, as other workers' would be."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection


@contextmanager
def other_session() -> Iterator[psycopg.Connection]:
    """A connection to the test database outside Django's, rolled back when left."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    ) as session:
        yield session
        session.rollback()


@contextmanager
def order_locked(order_pk: int) -> Iterator[psycopg.Connection]:
    """Hold an order's row lock from a session of its own, as another batch or a long
    checkout would, until the block is left (or the session commits)."""
    with other_session() as session:
        session.execute("SELECT id FROM orders_order WHERE id = %s FOR UPDATE", [order_pk])
        yield session


def sessions_waiting_on_a_lock(
    application_prefix: str = "", *, blocked_by: int | None = None
) -> set[str]:
    """The application names of this database's sessions that wait on a lock right now; with
    `blocked_by`, only those waiting on that backend's locks (not on a passing row lock of
    another session, which may be gone by the next look)."""
    query = (
        "SELECT application_name FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database() AND application_name LIKE %s"
    )
    parameters: list[str | int] = [f"{application_prefix}%"]
    if blocked_by is not None:
        query += " AND %s = ANY(pg_blocking_pids(pid))"
        parameters.append(blocked_by)
    with connection.cursor() as cursor:
        cursor.execute(query, parameters)
        return {name for (name,) in cursor.fetchall()}
