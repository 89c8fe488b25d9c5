"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

Headers: ``webhook-id`` (the message id), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature``: a space-separated list of ``v1,<base64 HMAC-SHA256>`` over
``"<id>.<timestamp>.<raw body>"``. Secrets are written ``whsec_<base64 key>``. Tessera uses
this scheme for the carrier webhooks and for the processing service's job-result callback.
"""

import base64
import binascii
import hashlib
import hmac
import os
import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from tessera_contract.signing.errors import (
    MalformedSignatureError,
    MissingSignatureError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
)

__all__ = [
    "WEBHOOK_ID_HEADER",
    "WEBHOOK_SIGNATURE_HEADER",
    "WEBHOOK_TIMESTAMP_HEADER",
    "StandardWebhookDelivery",
    "StandardWebhookSigner",
    "StandardWebhookVerifier",
    "standard_webhook_secret_generate",
]

WEBHOOK_ID_HEADER = "webhook-id"
WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp"
WEBHOOK_SIGNATURE_HEADER = "webhook-signature"
DEFAULT_TOLERANCE_SECONDS = 300
_SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
# The specification recommends keys of 24 to 64 bytes.
_MIN_KEY_BYTES = 24
_MAX_KEY_BYTES = 64
_MAX_ID_LENGTH = 256
_MAX_SIGNATURE_HEADER_LENGTH = 4096
_MAX_SIGNATURES = 16


# A NamedTuple rather than a dataclass: this module is on the cold-start path of the webhook
# functions, and the dataclasses module (with inspect) would add milliseconds to every start.
class StandardWebhookDelivery(NamedTuple):
    """What a verified delivery's headers say: its id (for deduplication) and when it was signed."""

    message_id: str
    timestamp: int


def standard_webhook_secret_generate() -> str:
    """Return a new random secret in ``whsec_<base64>`` form (32 random bytes)."""
    # os.urandom is what the secrets module uses underneath, without importing random.
    return _SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


def _key_decode(secret: str) -> bytes:
    encoded = secret.removeprefix(_SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a Standard Webhooks secret must be 'whsec_' followed by base64") from None
    if not _MIN_KEY_BYTES <= len(key) <= _MAX_KEY_BYTES:
        raise ValueError(f"a Standard Webhooks key must be {_MIN_KEY_BYTES}-{_MAX_KEY_BYTES} bytes")
    return key


def _keys_decode(secrets: Sequence[str]) -> tuple[bytes, ...]:
    if isinstance(secrets, str):
        raise TypeError("secrets must be a sequence of strings, not one string")
    if not secrets:
        raise ValueError("at least one secret is required")
    return tuple(_key_decode(secret) for secret in secrets)


def _signature(key: bytes, message_id: str, timestamp: int, payload: bytes) -> bytes:
    signed = f"{message_id}.{timestamp}.".encode() + payload
    return hmac.new(key, signed, hashlib.sha256).digest()


def _message_id_valid(message_id: str) -> bool:
    # The id is part of the signed content, so a '.' or whitespace would make it ambiguous
    # for readers that split; printable ASCII without spaces is what senders use.
    return (
        0 < len(message_id) <= _MAX_ID_LENGTH
        and message_id.isascii()
        and message_id.isprintable()
        and " " not in message_id
    )


class StandardWebhookSigner:
    """Signs deliveries (the carrier sandbox, and the processing service's callbacks)."""

    def __init__(self, secrets: Sequence[str]) -> None:
        """Sign with every secret in ``secrets``: receivers on either side of a rotation verify."""
        self._keys = _keys_decode(secrets)

    def headers(
        self, payload: bytes, *, message_id: str, timestamp: int | None = None
    ) -> dict[str, str]:
        """Return the three ``webhook-*`` headers for ``payload``."""
        if not _message_id_valid(message_id):
            raise ValueError("message_id must be 1-256 printable ASCII characters without spaces")
        signed_at = int(time.time()) if timestamp is None else timestamp
        signatures = " ".join(
            "v1," + base64.b64encode(_signature(key, message_id, signed_at, payload)).decode()
            for key in self._keys
        )
        return {
            WEBHOOK_ID_HEADER: message_id,
            WEBHOOK_TIMESTAMP_HEADER: str(signed_at),
            WEBHOOK_SIGNATURE_HEADER: signatures,
        }


class StandardWebhookVerifier:
    """Verifies ``webhook-*`` headers against the raw request body."""

    def __init__(
        self, secrets: Sequence[str], *, tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS
    ) -> None:
        """Accept signatures made with any of ``secrets``, at most ``tolerance_seconds`` off."""
        if tolerance_seconds <= 0:
            raise ValueError("tolerance_seconds must be positive")
        self._keys = _keys_decode(secrets)
        self._tolerance_seconds = tolerance_seconds

    def verify(
        self, payload: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> StandardWebhookDelivery:
        """Check the delivery's headers against the raw ``payload``; return its id and timestamp.

        ``headers`` may use any letter case (WSGI, Django and Lambda events all differ). The
        body is never parsed here. Raises a
        :class:`~tessera_contract.signing.errors.SignatureError` subclass on any failure.
        """
        message_id, timestamp, candidates = _headers_parse(headers)
        for key in self._keys:
            expected = _signature(key, message_id, timestamp, payload)
            if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
                break
        else:
            raise SignatureMismatchError()
        current = time.time() if now is None else now
        if abs(current - timestamp) > self._tolerance_seconds:
            raise TimestampOutsideToleranceError()
        return StandardWebhookDelivery(message_id=message_id, timestamp=timestamp)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _headers_parse(headers: Mapping[str, str]) -> tuple[str, int, list[bytes]]:
    message_id = _header(headers, WEBHOOK_ID_HEADER)
    timestamp_text = _header(headers, WEBHOOK_TIMESTAMP_HEADER)
    signature_header = _header(headers, WEBHOOK_SIGNATURE_HEADER)
    if not message_id or not timestamp_text or not signature_header:
        raise MissingSignatureError()
    if not _message_id_valid(message_id):
        raise MalformedSignatureError()
    timestamp_text = timestamp_text.strip()
    if not timestamp_text.isascii() or not timestamp_text.isdigit() or len(timestamp_text) > 12:
        raise MalformedSignatureError()
    if len(signature_header) > _MAX_SIGNATURE_HEADER_LENGTH:
        raise MalformedSignatureError()
    candidates: list[bytes] = []
    for entry in signature_header.split():
        version, separator, encoded = entry.partition(",")
        if not separator:
            raise MalformedSignatureError()
        if version != "v1":
            # v1a (asymmetric) and future versions are skipped, as the specification asks.
            continue
        try:
            candidates.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            raise MalformedSignatureError() from None
    if not candidates or len(candidates) > _MAX_SIGNATURES:
        raise MalformedSignatureError()
    return message_id, int(timestamp_text), candidates
