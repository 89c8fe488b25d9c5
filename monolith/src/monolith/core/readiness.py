"""Readiness checks: can this process serve real traffic right now?"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

logger = logging.getLogger(__name__)


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


def readiness_report() -> dict[str, str]:
    """Each check's outcome, "ok" or "unavailable"; details go to the log, not to callers."""
    report = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            logger.exception("readiness check %s failed", name)
            report[name] = "unavailable"
        else:
            report[name] = "ok"
    return report
