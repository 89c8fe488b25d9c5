"""Readiness checks: can this process serve real traffic right now? Database, broker, storage."""

import uuid
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from processing.celery_app import app


def database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM jobs_job LIMIT 1")  # also proves migrations ran


def broker_check() -> None:
    with app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, timeout=2)


def storage_check() -> None:
    name = default_storage.save(f"readiness/{uuid.uuid4().hex}", ContentFile(b"ok"))
    default_storage.delete(name)


CHECKS: dict[str, Callable[[], None]] = {
    "database": database_check,
    "broker": broker_check,
    "storage": storage_check,
}
