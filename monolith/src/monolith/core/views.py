"""Health endpoints, answered in the contract's shared shape (tessera_contract.health)."""

from importlib.metadata import version

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from tessera_contract.health import READY_RETRY_AFTER_SECONDS, liveness, readiness_run
from tessera_contract.models.codec import payload_encode

from .readiness import CHECKS

COMPONENT = "monolith"
VERSION = version("tessera-monolith")


def _json(body: bytes, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/json")


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Alive: the process answers. Touches no dependency, so a broken database cannot fail it."""
    return _json(payload_encode(liveness(component=COMPONENT, version=VERSION)))


@require_GET
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready: database reachable, migrations applied, storage reachable; else 503 + Retry-After."""
    report = readiness_run(component=COMPONENT, version=VERSION, checks=CHECKS)
    if report.status == "ready":
        return _json(payload_encode(report))
    response = _json(payload_encode(report), status=503)
    response["Retry-After"] = str(READY_RETRY_AFTER_SECONDS)
    return response
