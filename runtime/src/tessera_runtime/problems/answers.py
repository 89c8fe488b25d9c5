"""The one RFC 9457 problem+json builder, framework-free.

:func:`problem_answer` returns the status, headers and bytes of the answer, and each component
hands them to its framework through a thin adapter (``tessera_runtime.problems.django``,
``.drf``, ``.wsgi``). The builder takes only the contract's :class:`ProblemType`, so an error
cannot leave with a type the contract does not list; ``contract/tests`` and each component's
tests check that list against what they answer.
"""

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import NamedTuple

from tessera_contract.models.base import UNSET
from tessera_contract.models.codec import payload_encode
from tessera_contract.models.problems import (
    PROBLEM_MEDIA_TYPE,
    ProblemDetails,
    ProblemFieldError,
    ProblemType,
)

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "RETRY_AFTER_SECONDS",
    "ProblemAnswer",
    "ProblemType",
    "problem_answer",
    "problem_details",
]

# Long enough for a restarted database or broker to come back, short enough to catch up fast.
RETRY_AFTER_SECONDS = 5
# The schema's bounds (problem-details.json): a longer text is cut, never refused.
_DETAIL_MAX = 2000
_FIELD_DETAIL_MAX = 500
_FIELD_LOCATION_MAX = {"pointer": 500, "header": 100, "parameter": 100}
_ERRORS_MAX = 100


class ProblemAnswer(NamedTuple):
    """A problem response in no framework's terms; ``headers`` include the Content-Type."""

    status: int
    headers: dict[str, str]
    body: bytes


def _field_error(error: Mapping[str, str]) -> ProblemFieldError:
    locations = {
        name: str(error[name])[:limit]
        for name, limit in _FIELD_LOCATION_MAX.items()
        if error.get(name) is not None
    }
    return ProblemFieldError(detail=str(error["detail"])[:_FIELD_DETAIL_MAX] or "-", **locations)


def problem_details(
    status: int,
    problem_type: ProblemType,
    detail: str | None = None,
    *,
    errors: Iterable[Mapping[str, str]] | None = None,
) -> ProblemDetails:
    """The problem body: the title is the status phrase; long texts are cut to the schema."""
    if not isinstance(problem_type, ProblemType):
        # mypy catches this first; the check keeps an untyped caller from inventing a type.
        raise TypeError(f"{problem_type!r} is not a contract ProblemType")
    status = HTTPStatus(status)
    if status < HTTPStatus.BAD_REQUEST:
        raise ValueError(f"a problem needs an error status, not {int(status)}")
    field_errors = [_field_error(error) for error in errors or ()][:_ERRORS_MAX]
    return ProblemDetails(
        type=str(problem_type),
        title=status.phrase,
        status=int(status),
        detail=detail[:_DETAIL_MAX] if detail else UNSET,
        errors=field_errors or UNSET,
    )


def problem_answer(
    status: int,
    problem_type: ProblemType,
    detail: str | None = None,
    *,
    errors: Iterable[Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProblemAnswer:
    """The complete answer; a 503 always carries Retry-After (``RETRY_AFTER_SECONDS`` unless
    ``headers`` name another)."""
    body = payload_encode(problem_details(status, problem_type, detail, errors=errors))
    answer_headers = {"Content-Type": PROBLEM_MEDIA_TYPE, **(headers or {})}
    if status == HTTPStatus.SERVICE_UNAVAILABLE:
        answer_headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    return ProblemAnswer(int(status), answer_headers, body)
