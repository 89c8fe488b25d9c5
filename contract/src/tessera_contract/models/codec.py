"""Decoding (with validation, in one pass) and encoding of contract payloads."""

from functools import lru_cache
from typing import Any, TypeVar, overload

import msgspec

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

    Raises :class:`MalformedPayloadError` for bytes that are not JSON and
    :class:`InvalidPayloadError` for JSON that breaks the schema.
    """
    try:
        return _decoder(model).decode(raw)
    except msgspec.ValidationError as error:
        raise InvalidPayloadError(str(error)) from None
    except msgspec.DecodeError as error:
        raise MalformedPayloadError(str(error)) from None


def payload_encode(payload: Any) -> bytes:
    """Encode a contract model (or a list or dict of them) as compact JSON bytes."""
    return _ENCODER.encode(payload)
