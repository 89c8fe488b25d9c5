"""Turning an internal API's HTTP answer into a model or a precise error."""

from typing import TypeVar

import httpx

from tessera_contract.client.errors import ProblemResponseError, UnexpectedResponseError
from tessera_contract.models.codec import PayloadError, payload_decode
from tessera_contract.models.problems import PROBLEM_MEDIA_TYPE, ProblemDetails

T = TypeVar("T")


def response_model(response: httpx.Response, model: type[T]) -> T:
    """Decode a success body into ``model``; a body the contract forbids is a drift."""
    try:
        return payload_decode(response.content, model)
    except PayloadError as error:
        raise UnexpectedResponseError(
            f"HTTP {response.status_code} body does not match the contract: {error}"
        ) from None


def response_problem(response: httpx.Response) -> ProblemDetails | None:
    """The RFC 9457 problem in an error response, or None when there is none to read."""
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media_type != PROBLEM_MEDIA_TYPE:
        return None
    try:
        return payload_decode(response.content, ProblemDetails)
    except PayloadError:
        return None


def problem_error(
    response: httpx.Response, by_status: dict[int, type[ProblemResponseError]]
) -> ProblemResponseError:
    """The error to raise for a 4xx (or unexpected) response, most specific class first."""
    error_class = by_status.get(response.status_code, ProblemResponseError)
    return error_class(response.status_code, response_problem(response))
