"""The base of every contract model and the constrained scalar types they share.

Each type mirrors a definition in ``contract/schemas/common.json``; the tests check the two
agree, so change both together.
"""

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

__all__ = [
    "UNSET",
    "AmountMinor",
    "ContractStruct",
    "CountryCode",
    "CurrencyCode",
    "EventId",
    "JobError",
    "JobId",
    "JobKind",
    "JobStatus",
    "OrderNumber",
    "PaymentReference",
    "ResultLocation",
    "SubjectReference",
    "TerminalJobStatus",
    "Timestamp",
    "TraceContext",
    "UnsetType",
    "pattern_for_python",
]


def pattern_for_python(schema_pattern: str) -> str:
    """Return a JSON Schema pattern in a form Python's ``re`` reads the same way.

    In JSON Schema (ECMA-262) a final ``$`` matches only at the end of the string, while in
    Python it also matches before a trailing newline; ``\\Z`` keeps "EUR\\n" from passing as
    a currency code.
    """
    if schema_pattern.endswith("$"):
        return schema_pattern[:-1] + r"\Z"
    return schema_pattern


def _matching(schema_pattern: str) -> Meta:
    return Meta(pattern=pattern_for_python(schema_pattern))


class ContractStruct(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=False):
    """Base of every contract model.

    Frozen, because a decoded message is a fact, not a draft. Unknown fields are ignored so
    that adding an optional field is never a breaking change (tolerant reader). Optional
    fields default to ``UNSET`` and are left out when encoding, which keeps "absent" apart
    from "null". Every model repeats ``frozen=True, kw_only=True``:
    msgspec applies ``kw_only`` to the fields of one class only, and type checkers read
    ``frozen`` per class. Models are built with keywords; fields keep the schema's order.
    """


Timestamp = Annotated[datetime, Meta(tz=True)]
OrderNumber = Annotated[str, _matching(r"^[A-Z0-9][A-Z0-9-]{2,31}$")]
PaymentReference = Annotated[str, _matching(r"^[A-Za-z0-9][A-Za-z0-9_-]{7,63}$")]
CurrencyCode = Annotated[str, _matching(r"^[A-Z]{3}$")]
CountryCode = Annotated[str, _matching(r"^[A-Z]{2}$")]
AmountMinor = Annotated[int, Meta(ge=0, le=999_999_999_999)]
EVENT_ID_PATTERN = re.compile(pattern_for_python(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"))
EventId = Annotated[str, Meta(pattern=EVENT_ID_PATTERN.pattern)]
JobId = uuid.UUID
JobKind = Literal["image_renditions", "invoice_pdf", "sales_report"]
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "dead_lettered"]
TerminalJobStatus = Literal["succeeded", "failed", "cancelled", "dead_lettered"]


class SubjectReference(ContractStruct, frozen=True, kw_only=True):
    """What a job works on, in the monolith's terms, so that its result finds its way back."""

    type: Literal["product_image", "order", "sales_report"]
    reference: Annotated[str, _matching(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]


class JobError(ContractStruct, frozen=True, kw_only=True):
    """Why a job failed: a stable code and a message safe to show to staff."""

    code: Annotated[str, _matching(r"^[a-z][a-z0-9_]{0,63}$")]
    message: Annotated[str, Meta(min_length=1, max_length=1000)]
    retryable: bool


class ResultLocation(ContractStruct, frozen=True, kw_only=True):
    """One file a job produced."""

    name: Annotated[str, _matching(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
    location: Annotated[str, _matching(r"^[^\s]{1,2048}$")]
    media_type: Annotated[str, _matching(r"^[a-z]+/[a-z0-9.+-]{1,100}$")]
    size_bytes: Annotated[int, Meta(ge=0, le=1_099_511_627_776)]
    width: Annotated[int, Meta(ge=1, le=20000)] | UnsetType = UNSET
    height: Annotated[int, Meta(ge=1, le=20000)] | UnsetType = UNSET


class TraceContext(ContractStruct, frozen=True, kw_only=True):
    """W3C Trace Context carried across a queue."""

    traceparent: Annotated[str, _matching(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")]
    tracestate: Annotated[str, Meta(max_length=512)] | UnsetType = UNSET
