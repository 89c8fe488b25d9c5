"""RFC 9457 problem details for every error the storefront API answers.

DRF's exceptions, the shop's domain errors, and Django's own 404/500 under /api/ all leave as
`application/problem+json`; nothing carries a stack trace.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from monolith.core.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
API_PREFIX = "/api/"

# Problem types: relative references, documented in docs/contract.md.
PROBLEM_TYPES = {
    exceptions.ValidationError: "/problems/invalid-input",
    exceptions.ParseError: "/problems/malformed-body",
    exceptions.NotAuthenticated: "/problems/not-authenticated",
    exceptions.AuthenticationFailed: "/problems/not-authenticated",
    exceptions.PermissionDenied: "/problems/forbidden",
    exceptions.NotFound: "/problems/not-found",
    exceptions.MethodNotAllowed: "/problems/method-not-allowed",
    exceptions.NotAcceptable: "/problems/not-acceptable",
    exceptions.UnsupportedMediaType: "/problems/unsupported-media-type",
    exceptions.Throttled: "/problems/rate-limited",
}
DOMAIN_RULE_TYPE = "/problems/business-rule"


class DomainRuleViolation(exceptions.APIException):
    """A well-formed request that a business rule refused (stock, quantity limits, state)."""

    status_code = HTTPStatus.UNPROCESSABLE_ENTITY
    default_detail = "The request breaks a business rule."
    default_code = "business_rule"


def problem(status: int, *, type_: str, detail: str = "", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": type_, "title": HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body


def _validation_errors(detail: Any, pointer: str = "") -> list[dict[str, str]]:
    """Flatten DRF's nested error detail into RFC 9457 entries with JSON Pointers."""
    if isinstance(detail, dict):
        return [
            error
            for field, nested in detail.items()
            for error in _validation_errors(
                nested, pointer if field == "non_field_errors" else f"{pointer}/{field}"
            )
        ]
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [{"detail": str(item), "pointer": pointer} for item in detail]
        return [
            error
            for index, item in enumerate(detail)
            for error in _validation_errors(item, f"{pointer}/{index}")
        ]
    return [{"detail": str(detail), "pointer": pointer}]


def _type_for(exc: exceptions.APIException) -> str:
    for exception_class, type_ in PROBLEM_TYPES.items():
        if isinstance(exc, exception_class):
            return type_
    return DOMAIN_RULE_TYPE if isinstance(exc, DomainRuleViolation) else "about:blank"


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every API error as a problem; unknown errors stay 500s."""
    if isinstance(exc, DomainError):
        exc = DomainRuleViolation(str(exc))
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        body = problem(
            response.status_code,
            type_=_type_for(exc),
            detail="The request has invalid fields.",
            errors=_validation_errors(exc.detail),
        )
    else:
        body = problem(response.status_code, type_=_type_for(exc), detail=str(exc.detail))
    headers = {
        name: value
        for name, value in response.headers.items()
        if name in {"Retry-After", "WWW-Authenticate", "Allow"}
    }
    return Response(
        body, status=response.status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE
    )


def _problem_response(status: int, type_: str, detail: str) -> JsonResponse:
    return JsonResponse(
        problem(status, type_=type_, detail=detail),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def api_not_found(request: HttpRequest, exception: Http404 | None = None) -> JsonResponse:
    return _problem_response(404, "/problems/not-found", "No such resource.")


def api_forbidden(request: HttpRequest, exception: PermissionDenied | None = None) -> JsonResponse:
    return _problem_response(403, "/problems/forbidden", "You may not do this.")


def api_server_error(request: HttpRequest) -> JsonResponse:
    return _problem_response(500, "about:blank", "Something went wrong on our side.")


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)
