"""The benchmark's own PostgreSQL databases: this run's, recreated empty, dropped at exit."""

from __future__ import annotations

import atexit
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from tessera_testsupport import run_scoped


def local_database_url(name: str) -> str:
    """The machine's PostgreSQL database ``name`` of this run (``name`` + TESSERA_RUN_ID, or
    the process id): two benchmark runs, or a benchmark and a test run, never share rows."""
    return f"postgres://postgres@127.0.0.1:5432/{run_scoped(name)}"


def database_name(url: str) -> str:
    """The database named by a postgres:// URL."""
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise ValueError(f"{url} names no database")
    return name


def maintenance_url(url: str) -> str:
    """The same server's `postgres` database, from which others are created and dropped."""
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def database_recreate(url: str) -> None:
    """Drop the database named by `url` if it exists (closing its sessions) and create it;
    it is dropped again when this process exits."""
    database_drop(url)
    with psycopg.connect(maintenance_url(url), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database_name(url))))
    atexit.register(database_drop, url)


def database_drop(url: str) -> None:
    """Drop the database named by `url` if it exists, closing its sessions."""
    name = sql.Identifier(database_name(url))
    with psycopg.connect(maintenance_url(url), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def database_analyze(url: str) -> None:
    """VACUUM ANALYZE the freshly seeded database.

    Without statistics the planner guesses, and autovacuum would gather them in the middle
    of a measurement, changing query plans while wrk is running.
    """
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")


def server_version(url: str) -> str:
    """The server's version string, e.g. `15.20 (Debian 15.20-0+deb12u1)`."""
    with psycopg.connect(url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def product_slugs_pick(url: str, *, first: int, count: int) -> list[str]:
    """The slugs of `count` active products from position `first` in id order: fixed per catalog."""
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT slug FROM catalog_product WHERE is_active ORDER BY id OFFSET %s LIMIT %s",
            (first, count),
        ).fetchall()
    if len(rows) < count:
        raise LookupError(f"fewer than {count} active products from position {first}")
    return [str(row[0]) for row in rows]
