"""Health endpoints, answered in the contract's shared shape (tessera_contract.health)."""

from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from importlib.metadata import version

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from tessera_contract.health import HealthAnswer, liveness_answer, readiness_answer
from tessera_contract.problems import ProblemType
from tessera_contract.problems.django import problem_response

from .readiness import CHECKS

COMPONENT = "monolith"
VERSION = version("tessera-monolith")


def _response(answer: HealthAnswer) -> HttpResponse:
    return HttpResponse(
        answer.body, status=answer.status, headers=answer.headers, content_type="application/json"
    )


def _health_endpoint(view: Callable[[HttpRequest], HttpResponse]) -> Callable[..., HttpResponse]:
    """GET (and HEAD) only, answering another method with the contract's 405 problem.

    CSRF-exempt: a probe changes nothing, and the CSRF check would otherwise answer a POST
    with its 403 page before the method is looked at.
    """

    @csrf_exempt
    @never_cache
    @wraps(view)
    def endpoint(request: HttpRequest) -> HttpResponse:
        if request.method not in {"GET", "HEAD"}:
            return problem_response(
                HTTPStatus.METHOD_NOT_ALLOWED,
                ProblemType.METHOD_NOT_ALLOWED,
                "Health endpoints answer GET.",
                headers={"Allow": "GET, HEAD"},
            )
        return view(request)

    return endpoint


@_health_endpoint
def healthz(request: HttpRequest) -> HttpResponse:
    """Alive: the process answers. Touches no dependency, so a broken database cannot fail it."""
    return _response(liveness_answer(component=COMPONENT, version=VERSION))


@_health_endpoint
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready: database reachable, migrations applied, storage reachable; else 503 + Retry-After."""
    return _response(readiness_answer(component=COMPONENT, version=VERSION, checks=CHECKS))
