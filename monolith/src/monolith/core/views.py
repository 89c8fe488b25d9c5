"""Health endpoints, answered in the contract's shared shape (tessera_contract.health)."""

from importlib.metadata import version

from django.http import HttpRequest, HttpResponse
from tessera_contract.health import HealthAnswer, liveness_answer, readiness_answer
from tessera_contract.problems.django import health_endpoint

from .readiness import CHECKS

COMPONENT = "monolith"
VERSION = version("tessera-monolith")


def _response(answer: HealthAnswer) -> HttpResponse:
    return HttpResponse(
        answer.body, status=answer.status, headers=answer.headers, content_type="application/json"
    )


@health_endpoint
def healthz(request: HttpRequest) -> HttpResponse:
    """Alive: the process answers. Touches no dependency, so a broken database cannot fail it."""
    return _response(liveness_answer(component=COMPONENT, version=VERSION))


@health_endpoint
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready: database reachable, migrations applied, storage reachable; else 503 + Retry-After."""
    return _response(readiness_answer(component=COMPONENT, version=VERSION, checks=CHECKS))
