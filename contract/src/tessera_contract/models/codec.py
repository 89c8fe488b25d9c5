"""Decoding (with validation, in one pass) and encoding of contract payloads."""

import math
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar, overload

import msgspec

from tessera_contract.json_limits import json_nesting_exceeded, json_nesting_refusal

T = TypeVar("T")

_ENCODER = msgspec.json.Encoder()


class PayloadError(ValueError):
    """A payload could not be turned into a contract model.

    The message names the offending location (e.g. ``$.data.object.amount``) and what was
    expected, and never echoes secrets, so it may go into a 400/422 problem's ``detail``.
    """


class MalformedPayloadError(PayloadError):
    """The bytes are not JSON at all."""


class InvalidPayloadError(PayloadError):
    """The JSON does not match the contract's schema."""


# The most digits of a whole-number float read as an int; int(Decimal("1e999999")) would be a
# denial of service, and no schema bound comes near 10**18.
_WHOLE_FLOAT_MAX_DIGITS = 18


class _NotRelaxable(Exception):
    """The payload has no whole-number float to read as an int, or a float JSON cannot hold."""


def _whole_floats_as_ints(raw: bytes | str) -> bytes:
    """``raw`` re-encoded with every whole-number float (``640.0``, ``6.4e2``) as an int.

    JSON Schema counts 640.0 as an integer (the value is whole, whatever its spelling);
    msgspec counts it as a float and refuses it where the model says int. Raises
    _NotRelaxable when nothing would change, or when a float overflows (re-encoded, it
    would turn into null and could pass where null is allowed).
    """
    converted = False

    def read(text: str) -> float | int:
        nonlocal converted
        number = Decimal(text)
        # adjusted() is the exponent of the leading digit: checked first, so a huge exponent
        # is never expanded; values past 10**18 stay floats (the schemas' bounds refuse them).
        if number.is_zero() or (
            number.is_finite()
            and 0 <= number.adjusted() <= _WHOLE_FLOAT_MAX_DIGITS
            and number == number.to_integral_value()
        ):
            converted = True
            return int(number)
        value = float(text)
        if not math.isfinite(value):
            raise _NotRelaxable()
        return value

    relaxed = payload_encode(msgspec.json.Decoder(float_hook=read).decode(raw))
    if not converted:
        raise _NotRelaxable()
    return relaxed


@lru_cache(maxsize=64)
def _decoder(model: Any) -> msgspec.json.Decoder[Any]:
    # Building a decoder resolves the model's type tree; caching it keeps the hot path to one
    # pass over the bytes.
    return msgspec.json.Decoder(model)


@overload
def payload_decode(raw: bytes | str, model: type[T]) -> T: ...
@overload
def payload_decode(raw: bytes | str, model: Any) -> Any: ...
def payload_decode(raw: bytes | str, model: Any) -> Any:
    """Decode JSON ``raw`` into ``model``, validating every constraint of the contract.

    Raises :class:`MalformedPayloadError` for bytes that are not JSON, or that nest deeper
    than ``tessera_contract.json_limits.JSON_MAX_DEPTH`` (refused before any parsing), and
    :class:`InvalidPayloadError` for JSON that breaks the schema.

    A whole-number float (``640.0``, ``6.4e2``) is an integer, as in JSON Schema: a payload
    msgspec refuses is read once more with such floats as ints, so the fast path stays one
    pass and only a payload that would otherwise be refused pays for the second.
    """
    if json_nesting_exceeded(raw):
        raise MalformedPayloadError(json_nesting_refusal())
    try:
        return _decoder(model).decode(raw)
    except msgspec.ValidationError as error:
        refusal = error
    except msgspec.DecodeError as error:
        raise MalformedPayloadError(str(error)) from None
    try:
        relaxed = _whole_floats_as_ints(raw)
    except _NotRelaxable:
        raise InvalidPayloadError(str(refusal)) from None
    except msgspec.DecodeError as error:
        # The typed pass stops at the first value of the wrong type, before the bytes that
        # are not JSON; this pass reads them all.
        raise MalformedPayloadError(str(error)) from None
    try:
        return _decoder(model).decode(relaxed)
    except msgspec.ValidationError as error:
        raise InvalidPayloadError(str(error)) from None


def payload_encode(payload: Any) -> bytes:
    """Encode a contract model (or a list or dict of them) as compact JSON bytes."""
    return _ENCODER.encode(payload)
