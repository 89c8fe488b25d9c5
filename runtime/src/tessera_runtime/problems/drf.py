"""Django REST framework's errors as problem answers: set ``EXCEPTION_HANDLER`` to
``"tessera_runtime.problems.drf.problem_exception_handler"``.

DRF is imported here only, so ``tessera_runtime.problems.answers`` stays importable without
it.
"""

from collections.abc import Mapping
from http import HTTPStatus
from io import BytesIO
from typing import IO, Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpResponse
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.views import exception_handler
from tessera_contract.json_limits import json_nesting_exceeded, json_nesting_refusal

from tessera_runtime.problems.answers import ProblemType
from tessera_runtime.problems.django import problem_response

__all__ = ["ApiProblem", "BoundedJSONParser", "problem_exception_handler", "validation_errors"]

# DRF's own exceptions. A component's subclass may name another type in a ``problem_type``
# attribute (processing: a refused service token is token-invalid, not not-authenticated).
_TYPES: dict[type[exceptions.APIException], ProblemType] = {
    exceptions.ValidationError: ProblemType.VALIDATION_FAILED,
    exceptions.ParseError: ProblemType.MALFORMED_REQUEST,
    exceptions.NotAuthenticated: ProblemType.NOT_AUTHENTICATED,
    exceptions.AuthenticationFailed: ProblemType.NOT_AUTHENTICATED,
    exceptions.PermissionDenied: ProblemType.FORBIDDEN,
    exceptions.NotFound: ProblemType.NOT_FOUND,
    exceptions.MethodNotAllowed: ProblemType.METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: ProblemType.NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: ProblemType.UNSUPPORTED_MEDIA_TYPE,
    exceptions.Throttled: ProblemType.RATE_LIMITED,
}
# The headers of DRF's answer that belong on the problem too.
_KEPT_HEADERS = ("WWW-Authenticate", "Retry-After")


class ApiProblem(exceptions.APIException):
    """Raise it in a view to answer a problem of a given contract type."""

    def __init__(
        self,
        status: int,
        problem_type: ProblemType,
        detail: str,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status_code = status
        self.problem_type = problem_type
        self.errors = errors


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing a body nested past ``JSON_MAX_DEPTH`` before ``json`` reads
    it (its recursion would end in a 500): set it in ``DEFAULT_PARSER_CLASSES``."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        body = stream.read() if stream is not None else b""
        if json_nesting_exceeded(body):
            raise exceptions.ParseError(json_nesting_refusal())
        return super().parse(BytesIO(body), media_type, parser_context)


def validation_errors(detail: Any, pointer: str = "") -> list[dict[str, str]]:
    """DRF's nested error detail as RFC 9457 ``errors`` entries with JSON Pointers."""
    if isinstance(detail, dict):
        return [
            error
            for field, nested in detail.items()
            for error in validation_errors(
                nested, pointer if field == "non_field_errors" else f"{pointer}/{field}"
            )
        ]
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [{"detail": str(item), "pointer": pointer} for item in detail]
        return [
            error
            for index, item in enumerate(detail)
            for error in validation_errors(item, f"{pointer}/{index}")
        ]
    return [{"detail": str(detail), "pointer": pointer}]


def _problem_type(exc: exceptions.APIException) -> ProblemType:
    declared = getattr(exc, "problem_type", None)
    if isinstance(declared, ProblemType):
        return declared
    for exception_class, problem_type in _TYPES.items():
        if isinstance(exc, exception_class):
            return problem_type
    # A bare APIException (DRF's own 500) or a subclass that named no type.
    if exc.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return ProblemType.INTERNAL_ERROR
    return ProblemType.MALFORMED_REQUEST


def problem_exception_handler(exc: Exception, context: Mapping[str, Any]) -> HttpResponse | None:
    """DRF's ``EXCEPTION_HANDLER``: every API error as a problem; unknown errors stay 500s
    (Django's handler500 answers them, a problem too under an API)."""
    if isinstance(exc, RequestDataTooBig):
        # Django's own 400 for it would be an HTML page (a SuspiciousOperation) with DEBUG on.
        exc = ApiProblem(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            ProblemType.PAYLOAD_TOO_LARGE,
            "The body is larger than this operation accepts.",
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if not isinstance(exc, exceptions.APIException):
        return None
    # DRF's own handler rolls an atomic request back and knows the headers (WWW-Authenticate,
    # Retry-After); the body is built here.
    drf_response = exception_handler(exc, dict(context))
    if drf_response is None:
        return None
    errors: list[dict[str, str]] | None
    if isinstance(exc, exceptions.ValidationError):
        detail = "The request has invalid fields."
        errors = validation_errors(exc.detail)
    else:
        detail = str(exc.detail)
        errors = exc.errors if isinstance(exc, ApiProblem) else None
    headers = {name: drf_response[name] for name in _KEPT_HEADERS if drf_response.has_header(name)}
    return problem_response(
        drf_response.status_code, _problem_type(exc), detail, errors=errors, headers=headers
    )
