"""Database settings every Django component shares: SQLite made fit for several processes.

Under ``make run`` the embedded SQLite database is written by a web process and a worker at
once. Django's defaults shed that load: a deferred transaction that reads and then writes
cannot wait for another writer (SQLite answers "database is locked" at once rather than
deadlock), and the rollback journal blocks readers while anyone writes. Hence WAL (readers
never wait for the writer), immediate transactions (the write lock is taken at BEGIN, where
the busy timeout can wait for it; Django 5.1's ``transaction_mode``) and a busy timeout longer
than any transaction of the platform.
"""

from typing import Any

__all__ = ["SQLITE_BUSY_TIMEOUT_SECONDS", "database_for_several_processes"]

SQLITE_BUSY_TIMEOUT_SECONDS = 20
_SQLITE_ENGINE = "django.db.backends.sqlite3"
_SQLITE_OPTIONS = {
    "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
    "transaction_mode": "IMMEDIATE",
    # NORMAL is durable in WAL mode up to the last checkpoint; FULL would sync every commit.
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def database_for_several_processes(database: dict[str, Any]) -> dict[str, Any]:
    """``database`` (one entry of ``DATABASES``) with SQLite's options for concurrent
    writers; any other engine is returned unchanged. Options already set win."""
    if database.get("ENGINE") != _SQLITE_ENGINE:
        return database
    return {**database, "OPTIONS": {**_SQLITE_OPTIONS, **database.get("OPTIONS", {})}}
