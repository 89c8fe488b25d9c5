"""Problem answers as Django responses, and error handlers for URLs that only serve an API.

Django is imported here only, so ``tessera_contract.problems`` stays importable without it.
"""

from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from http import HTTPStatus

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from tessera_contract.problems import ProblemAnswer, ProblemType, problem_answer

__all__ = [
    "api_bad_request",
    "api_forbidden",
    "api_not_found",
    "api_server_error",
    "health_endpoint",
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


def health_endpoint(view: Callable[[HttpRequest], HttpResponse]) -> Callable[..., HttpResponse]:
    """``/healthz`` and ``/readyz``: GET (and HEAD) only, uncached; another method gets the
    contract's 405 problem.

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
