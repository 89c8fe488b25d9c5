"""RFC 9457 problem details for every error the jobs API answers, typed as in the contract."""

from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler
from tessera_contract.health import READY_RETRY_AFTER_SECONDS
from tessera_contract.models.problems import PROBLEM_MEDIA_TYPE, ProblemType


class ApiProblem(exceptions.APIException):
    """An error with a contract problem type and optional field errors."""

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


class ServiceUnavailable(exceptions.APIException):
    """A dependency (database, broker, storage) failed; the caller should retry later."""

    status_code = 503
    default_detail = "A dependency of the service is failing; try again later."

    def __init__(self) -> None:
        super().__init__()
        self.wait = READY_RETRY_AFTER_SECONDS


_TYPES: dict[type[exceptions.APIException], ProblemType] = {
    exceptions.NotAuthenticated: ProblemType.TOKEN_INVALID,
    exceptions.AuthenticationFailed: ProblemType.TOKEN_INVALID,
    exceptions.PermissionDenied: ProblemType.FORBIDDEN,
    exceptions.NotFound: ProblemType.NOT_FOUND,
    ServiceUnavailable: ProblemType.SERVICE_UNAVAILABLE,
    exceptions.ParseError: ProblemType.MALFORMED_REQUEST,
    exceptions.ValidationError: ProblemType.VALIDATION_FAILED,
}


def problem_body(status: int, problem_type: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The problem+json body for ``status``."""
    body: dict[str, Any] = {
        "type": problem_type,
        "title": HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update({key: value for key, value in extra.items() if value is not None})
    return body


def _problem_type(exc: exceptions.APIException) -> str:
    if isinstance(exc, ApiProblem):
        return str(exc.problem_type)
    for exception_class, problem_type in _TYPES.items():
        if isinstance(exc, exception_class):
            return str(problem_type)
    return "about:blank"


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every API error leaves as a problem; unknown errors stay 500s."""
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    errors = exc.errors if isinstance(exc, ApiProblem) else None
    body = problem_body(response.status_code, _problem_type(exc), str(exc.detail), errors=errors)
    if isinstance(exc, ServiceUnavailable):
        response["Retry-After"] = str(exc.wait)
    headers = {
        name: value
        for name, value in response.headers.items()
        if name in {"Retry-After", "WWW-Authenticate", "Allow"}
    }
    return Response(
        body, status=response.status_code, headers=headers, content_type=PROBLEM_MEDIA_TYPE
    )


def _json_problem(status: int, problem_type: str, detail: str) -> JsonResponse:
    return JsonResponse(
        problem_body(status, problem_type, detail), status=status, content_type=PROBLEM_MEDIA_TYPE
    )


def not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    """handler404: unknown paths answer a problem too, never an HTML page."""
    return _json_problem(404, str(ProblemType.NOT_FOUND), "No such resource.")


def server_error(request: HttpRequest) -> JsonResponse:
    """handler500: no stack trace leaves the service."""
    return _json_problem(500, "about:blank", "The service failed to answer; it was logged.")
