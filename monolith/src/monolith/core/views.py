"""Health endpoints, answered in the contract's shared shape (tessera_contract.health)."""

from importlib.metadata import version

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from tessera_contract.health import HealthAnswer, liveness_answer, readiness_answer

from .readiness import CHECKS

COMPONENT = "monolith"
VERSION = version("tessera-monolith")


def _response(answer: HealthAnswer) -> HttpResponse:
    return HttpResponse(
        answer.body, status=answer.status, headers=answer.headers, content_type="application/json"
    )


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Alive: the process answers. Touches no dependency, so a broken database cannot fail it."""
    return _response(liveness_answer(component=COMPONENT, version=VERSION))


@require_GET
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready: database reachable, migrations applied, storage reachable; else 503 + Retry-After."""
    return _response(readiness_answer(component=COMPONENT, version=VERSION, checks=CHECKS))
