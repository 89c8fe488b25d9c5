"""RFC 9457 problem details: the body of every error response on Tessera's APIs."""

from enum import StrEnum
from typing import Annotated

from msgspec import Meta

from tessera_contract.models.base import UNSET, ContractStruct, UnsetType

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemType(StrEnum):
    """The problem types Tessera's components answer with, as relative URI references.

    The same list is ``x-extensible-enum`` of ``type`` in ``schemas/problem-details.json``.
    It is open: a client treats a type it does not know by its status code alone (RFC 9457),
    so a new type is a compatible change.
    """

    MALFORMED_REQUEST = "/problems/malformed-request"
    VALIDATION_FAILED = "/problems/validation-failed"
    SIGNATURE_INVALID = "/problems/signature-invalid"
    TOKEN_INVALID = "/problems/token-invalid"  # noqa: S105 - a problem type, not a secret
    NOT_AUTHENTICATED = "/problems/not-authenticated"
    FORBIDDEN = "/problems/forbidden"
    NOT_FOUND = "/problems/not-found"
    METHOD_NOT_ALLOWED = "/problems/method-not-allowed"
    NOT_ACCEPTABLE = "/problems/not-acceptable"
    UNSUPPORTED_MEDIA_TYPE = "/problems/unsupported-media-type"
    IDEMPOTENCY_KEY_MISSING = "/problems/idempotency-key-missing"
    IDEMPOTENCY_CONFLICT = "/problems/idempotency-conflict"
    JOB_NOT_CANCELLABLE = "/problems/job-not-cancellable"
    BUSINESS_RULE = "/problems/business-rule"
    PAYLOAD_TOO_LARGE = "/problems/payload-too-large"
    RATE_LIMITED = "/problems/rate-limited"
    INTERNAL_ERROR = "/problems/internal-error"
    SERVICE_UNAVAILABLE = "/problems/service-unavailable"


class ProblemFieldError(ContractStruct, frozen=True, kw_only=True):
    """One invalid input inside a validation problem."""

    detail: Annotated[str, Meta(min_length=1, max_length=500)]
    pointer: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET
    header: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    parameter: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET


class ProblemDetails(ContractStruct, frozen=True, kw_only=True):
    """An error response body (``application/problem+json``)."""

    type: Annotated[str, Meta(min_length=1, max_length=200)]
    title: Annotated[str, Meta(min_length=1, max_length=200)]
    status: Annotated[int, Meta(ge=400, le=599)]
    detail: Annotated[str, Meta(max_length=2000)] | UnsetType = UNSET
    instance: Annotated[str, Meta(max_length=2000)] | UnsetType = UNSET
    errors: Annotated[list[ProblemFieldError], Meta(max_length=100)] | UnsetType = UNSET
