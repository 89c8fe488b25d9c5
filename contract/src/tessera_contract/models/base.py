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
    "ECMA_WHITESPACE",
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


# ECMA-262's \s: WhiteSpace (TAB, VT, FF, ZWNBSP and every Unicode "Zs" space) and
# LineTerminator (LF, CR, LS, PS). Python's \s differs both ways: it also matches
# U+001C-U+001F and U+0085 (NEL), and it does not match U+FEFF.
ECMA_WHITESPACE = r"\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# ECMA-262's \d and \w are ASCII-only; Python's (on str) match any Unicode digit or letter.
_CLASS_ESCAPES = {"s": ECMA_WHITESPACE, "d": "0-9", "w": "A-Za-z0-9_"}


def pattern_for_python(schema_pattern: str) -> str:
    """Return a JSON Schema pattern in a form Python's ``re`` reads the same way.

    JSON Schema patterns are ECMA-262 regular expressions. Two things read differently in
    Python: a final ``$`` matches only at the end of the string in ECMA but also before a
    trailing newline in Python (``\\Z`` keeps "EUR\\n" from passing as a currency code), and
    the class escapes ``\\s``, ``\\d``, ``\\w`` (and their negations) name other sets of
    characters, so they are spelled out as ECMA's sets.
    """
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(schema_pattern):
        char = schema_pattern[index]
        if char == "\\" and index + 1 < len(schema_pattern):
            escaped = schema_pattern[index + 1]
            index += 2
            characters = _CLASS_ESCAPES.get(escaped.lower())
            if characters is None:
                out.append(char + escaped)
            elif in_class and escaped.isupper():
                # [^\S] and the like: Python has no set subtraction to spell them with.
                raise ValueError(f"{schema_pattern!r}: \\{escaped} inside a class is not supported")
            elif in_class:
                out.append(characters)
            else:
                out.append(f"[{'^' if escaped.isupper() else ''}{characters}]")
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        index += 1
    python_pattern = "".join(out)
    if python_pattern.endswith("$") and not python_pattern.endswith("\\$"):
        return python_pattern[:-1] + r"\Z"
    return python_pattern


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
