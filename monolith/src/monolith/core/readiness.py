"""Readiness checks: can this process serve real traffic right now?"""

from __future__ import annotations

from collections.abc import Callable

from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


def database_reachable() -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")


def migrations_applied() -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise RuntimeError("unapplied migrations")


def storage_reachable() -> None:
    default_storage.listdir("")


CHECKS: dict[str, Callable[[], None]] = {
    "database": database_reachable,
    "migrations": migrations_applied,
    "storage": storage_reachable,
}
