"""Problem answers as Django responses, and error handlers for URLs that only serve an API.

Django is imported here only, so ``tessera_runtime.problems.answers`` stays importable
without it.
"""

from collections.abc import Iterable, Mapping
from http import HTTPStatus

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from tessera_runtime.problems.answers import ProblemAnswer, ProblemType, problem_answer

__all__ = [
    "api_bad_request",
    "api_forbidden",
    "api_not_found",
    "api_server_error",
    "problem_answer_response",
    "problem_response",
]


def problem_answer_response(answer: ProblemAnswer) -> HttpResponse:
    """The Django response carrying ``answer``: its status, headers and bytes as they are."""
    response = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response


def problem_response(
    status: int,
    problem_type: ProblemType,
    detail: str | None = None,
    *,
    errors: Iterable[Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """A problem+json response; the arguments are those of ``problem_answer``."""
    return problem_answer_response(
        problem_answer(status, problem_type, detail, errors=errors, headers=headers)
    )


# Django's handler400/403/404/500 take these signatures; Django calls them with DEBUG off. A
# component that answers only an API under some prefix also routes unknown paths there to
# api_not_found, so DEBUG on (`make run`) answers a problem too instead of the HTML debug page.


def api_bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is 413, anything else 400."""
    if isinstance(exception, RequestDataTooBig):
        return problem_response(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            ProblemType.PAYLOAD_TOO_LARGE,
            "The body is larger than this operation accepts.",
        )
    return problem_response(
        HTTPStatus.BAD_REQUEST, ProblemType.MALFORMED_REQUEST, "The request is malformed."
    )


def api_forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403."""
    return problem_response(HTTPStatus.FORBIDDEN, ProblemType.FORBIDDEN, "You may not do this.")


@csrf_exempt  # as a catch-all route: it says nothing is here, whatever the method, changes nothing
def api_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404, and the view of a catch-all route for unknown API paths."""
    return problem_response(HTTPStatus.NOT_FOUND, ProblemType.NOT_FOUND, "No such resource.")


def api_server_error(request: HttpRequest) -> HttpResponse:
    """handler500: no stack trace leaves the component; the error was logged."""
    return problem_response(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        ProblemType.INTERNAL_ERROR,
        "Something went wrong on our side; it was logged.",
    )
