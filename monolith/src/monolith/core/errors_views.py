"""Error answers: HTML pages for the shop, RFC 9457 problems for its APIs.

The problems themselves are built by ``tessera_runtime.problems.answers``, as in every component;
what is the monolith's own is which paths are API paths and which domain errors they answer.
"""

import sys
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.views import defaults
from tessera_runtime.problems.answers import RETRY_AFTER_SECONDS, ProblemType
from tessera_runtime.problems.django import (
    api_bad_request,
    api_forbidden,
    api_not_found,
    api_server_error,
    problem_response,
)
from tessera_runtime.problems.drf import ApiProblem, problem_exception_handler

from monolith.core.errors import DomainError

# The storefront API and the internal callbacks; everything else is a page.
API_PREFIXES = ("/api/", "/internal/")


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    """DRF's EXCEPTION_HANDLER: a business rule a service refused is 422 business-rule."""
    if isinstance(exc, DomainError):
        exc = ApiProblem(422, ProblemType.BUSINESS_RULE, str(exc))
    return problem_exception_handler(exc, context)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return api_bad_request(request, exception)
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Http404) -> HttpResponse:
    if is_api_request(request):
        return api_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def forbidden(request: HttpRequest, exception: PermissionDenied) -> HttpResponse:
    if is_api_request(request):
        return api_forbidden(request, exception)
    return defaults.permission_denied(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500; a database that cannot be reached (restarting, failing over, refusing
    connections) is a broken dependency, not a bug: 503 with Retry-After, so the client
    tries again. Django calls this while handling the exception, so it is sys.exc_info()'s."""
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return database_unavailable(request)
    if is_api_request(request):
        return api_server_error(request)
    return defaults.server_error(request)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    detail = "The database is not answering right now; try again shortly."
    if is_api_request(request):
        return problem_response(
            HTTPStatus.SERVICE_UNAVAILABLE, ProblemType.SERVICE_UNAVAILABLE, detail
        )
    response = HttpResponse(
        f"<!doctype html><title>Back in a moment</title><h1>Back in a moment</h1><p>{detail}</p>",
        status=HTTPStatus.SERVICE_UNAVAILABLE,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
