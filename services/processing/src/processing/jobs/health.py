"""GET /healthz and GET /readyz in the contract's shape; readiness checks DB, broker, storage."""

import uuid
from importlib.metadata import version

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse
from tessera_contract.health import HealthAnswer, liveness_answer, readiness_answer
from tessera_contract.problems.django import health_endpoint

from processing.celery_app import app

COMPONENT = "processing"
VERSION = version("tessera-processing")


def database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM jobs_job LIMIT 1")  # also proves migrations ran


def broker_check() -> None:
    with app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, timeout=2)


def storage_check() -> None:
    name = default_storage.save(f"readiness/{uuid.uuid4().hex}", ContentFile(b"ok"))
    default_storage.delete(name)


CHECKS = {"database": database_check, "broker": broker_check, "storage": storage_check}


def _response(answer: HealthAnswer) -> HttpResponse:
    return HttpResponse(
        answer.body, status=answer.status, headers=answer.headers, content_type="application/json"
    )


@health_endpoint
def healthz(request: HttpRequest) -> HttpResponse:
    """Alive: touches no dependency."""
    return _response(liveness_answer(component=COMPONENT, version=VERSION))


@health_endpoint
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready: database, broker and storage answer; else 503 with Retry-After."""
    return _response(readiness_answer(component=COMPONENT, version=VERSION, checks=CHECKS))
