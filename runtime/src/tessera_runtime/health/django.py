"""The ``/healthz`` and ``/readyz`` views of both Django projects, written once.

Each project builds them with its name, version and readiness checks, and routes them::

    health = health_views(component="monolith", version=version("tessera-monolith"), checks=CHECKS)
    urlpatterns = [
        path("healthz", health.healthz, name="healthz"),
        path("readyz", health.readyz, name="readyz"),
    ]

Both answer GET and HEAD, uncached; another method gets the contract's 405 problem. Both are
CSRF-exempt: a probe changes nothing, and Django's CSRF check would otherwise answer a POST
with its 403 page before the method is looked at.
"""

from collections.abc import Callable, Mapping
from functools import wraps
from http import HTTPStatus
from typing import NamedTuple

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from tessera_contract.models.problems import ProblemType

from tessera_runtime.health.answers import HealthAnswer, liveness_answer, readiness_answer
from tessera_runtime.problems.django import problem_response

__all__ = ["HealthViews", "health_views"]

View = Callable[[HttpRequest], HttpResponse]


class HealthViews(NamedTuple):
    """The two views of one component."""

    healthz: View
    readyz: View


def _response(answer: HealthAnswer) -> HttpResponse:
    return HttpResponse(
        answer.body, status=answer.status, headers=answer.headers, content_type="application/json"
    )


def _health_endpoint(view: View) -> View:
    # csrf_exempt outermost: Django's CSRF middleware reads the flag on the view it resolves.
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


def health_views(
    *, component: str, version: str, checks: Mapping[str, Callable[[], None]]
) -> HealthViews:
    """``component``'s health views; ``checks`` (name: a callable that raises when its
    dependency does not answer) is read at every ``/readyz``."""

    def healthz(request: HttpRequest) -> HttpResponse:
        """Alive: the process answers. Touches no dependency, so a broken one cannot fail it."""
        return _response(liveness_answer(component=component, version=version))

    def readyz(request: HttpRequest) -> HttpResponse:
        """Ready: every check passes; else 503 with Retry-After, the failing check named."""
        return _response(readiness_answer(component=component, version=version, checks=checks))

    return HealthViews(healthz=_health_endpoint(healthz), readyz=_health_endpoint(readyz))
