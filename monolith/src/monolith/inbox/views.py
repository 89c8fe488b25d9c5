"""The webhook receivers' mount point in the monolith's process (inline placement)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from tessera_runtime.problems.answers import ProblemType
from tessera_runtime.problems.django import problem_response

from .receiver_placement import inline_receivers


@csrf_exempt  # a provider's server-to-server call: authenticated by its signature instead
def webhook_receive(request: HttpRequest, source: str) -> HttpResponse:
    """Hand the request to the receivers' WSGI application as it came, and its answer back.

    The raw body is not read here: the application reads it itself (its size limit, then the
    signature over the exact bytes), from the request's stream.
    """
    application = inline_receivers()
    if application is None:
        return problem_response(
            HTTPStatus.NOT_FOUND,
            ProblemType.NOT_FOUND,
            "Webhooks are received by the webhook functions in this deployment, not here.",
        )
    environ = {**request.META, "PATH_INFO": request.path_info, "SCRIPT_NAME": ""}
    environ["wsgi.input"] = request  # HttpRequest.read(): the body, bounded by its length
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> Callable[[bytes], object]:
        started.append((status, headers))
        return _no_write

    body = b"".join(application(environ, start_response))
    status, headers = started[-1]
    response = HttpResponse(body, status=int(status.split(" ", 1)[0]))
    for name, value in headers:
        response[name] = value
    return response


def _no_write(data: bytes) -> None:
    raise NotImplementedError("the receivers answer by returning their body")
