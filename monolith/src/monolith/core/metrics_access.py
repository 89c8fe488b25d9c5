"""``GET /metrics`` behind its access rule: Prometheus's bearer token, or closed.

With ``TESSERA_METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer <token>``
(Prometheus's ``authorization`` scrape setting). Without one, the metrics are served to anyone
only where ``TESSERA_METRICS_PUBLIC`` is on (``make run``, the tests); production settings turn
it off, so a production process without a token serves no metrics rather than everyone's.
"""

import hmac
from collections.abc import Callable
from functools import wraps
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from tessera_runtime.problems.answers import ProblemType
from tessera_runtime.problems.django import problem_response

_BEARER = "Bearer "
View = Callable[[HttpRequest], HttpResponse]


def _token_sent(request: HttpRequest) -> str:
    authorization = request.headers.get("Authorization", "")
    return authorization[len(_BEARER) :] if authorization.startswith(_BEARER) else ""


def metrics_access_required(exposition: View) -> View:
    """The Prometheus ``exposition`` view, for a caller the access rule lets in."""

    @require_GET
    @wraps(exposition)
    def metrics(request: HttpRequest) -> HttpResponse:
        token = settings.TESSERA_METRICS_TOKEN
        if token:
            if not hmac.compare_digest(_token_sent(request).encode(), token.encode()):
                return problem_response(
                    HTTPStatus.UNAUTHORIZED,
                    ProblemType.NOT_AUTHENTICATED,
                    "The metrics need the scraper's bearer token.",
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
        elif not settings.TESSERA_METRICS_PUBLIC:
            return problem_response(
                HTTPStatus.NOT_FOUND, ProblemType.NOT_FOUND, "No such resource."
            )
        return exposition(request)

    return metrics
