"""The answer to a sign-in that django-axes has locked out (``AXES_LOCKOUT_CALLABLE``).

Both say when to try again: the API as a 429 problem with Retry-After, the sign-in forms (the
shop's and the admin's) as a page with the same header.
"""

from __future__ import annotations

import math
from http import HTTPStatus
from typing import Any

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from tessera_runtime.problems.answers import ProblemType
from tessera_runtime.problems.django import problem_response


def sign_in_locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """429 for a locked-out sign-in, with Retry-After in seconds."""
    cool_off = get_cool_off(request)
    retry_after = max(1, math.ceil(cool_off.total_seconds())) if cool_off else 60
    headers = {"Retry-After": str(retry_after)}
    if request.path.startswith("/api/"):
        return problem_response(
            HTTPStatus.TOO_MANY_REQUESTS,
            ProblemType.RATE_LIMITED,
            f"Too many failed sign-ins; try again in {retry_after} seconds.",
            headers=headers,
        )
    context = {"retry_after_minutes": math.ceil(retry_after / 60)}
    response = render(
        request, "accounts/locked_out.html", context, status=HTTPStatus.TOO_MANY_REQUESTS
    )
    response["Retry-After"] = headers["Retry-After"]
    return response
