"""Stripe-compatible webhook signatures: ``Stripe-Signature: t=<ts>,v1=<hex>[,v1=<hex>...]``.

``v1`` is the hex HMAC-SHA256 of ``"<ts>.<raw body>"`` keyed with the endpoint secret
(``whsec_...``, used as-is). During a rotation the sender signs with every active secret and
sends one ``v1`` per secret; a receiver accepts the request when any of them matches any of
its own active secrets.
"""

import hashlib
import hmac
import time
from collections.abc import Sequence

from tessera_contract.signing.errors import (
    MalformedSignatureError,
    MissingSignatureError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
)

__all__ = ["STRIPE_SIGNATURE_HEADER", "StripeSignatureSigner", "StripeSignatureVerifier"]

STRIPE_SIGNATURE_HEADER = "Stripe-Signature"
DEFAULT_TOLERANCE_SECONDS = 300
# Bounds that keep a hostile header from costing more than a few HMACs to reject.
_MAX_HEADER_LENGTH = 4096
_MAX_SIGNATURES = 16


def _secrets_checked(secrets: Sequence[str]) -> tuple[bytes, ...]:
    if isinstance(secrets, str):
        raise TypeError("secrets must be a sequence of strings, not one string")
    keys = tuple(secret.encode() for secret in secrets if secret)
    if not keys or len(keys) != len(secrets):
        raise ValueError("at least one secret is required, and none may be empty")
    return keys


def _signature(key: bytes, timestamp: int, payload: bytes) -> str:
    return hmac.new(key, b"%d." % timestamp + payload, hashlib.sha256).hexdigest()


class StripeSignatureSigner:
    """Signs bodies the way the payment provider does (used by the sandbox and by tests)."""

    def __init__(self, secrets: Sequence[str]) -> None:
        """Sign with every secret in ``secrets``; several produce several ``v1`` entries."""
        self._keys = _secrets_checked(secrets)

    def header(self, payload: bytes, *, timestamp: int | None = None) -> str:
        """Return the ``Stripe-Signature`` value for ``payload`` signed at ``timestamp``."""
        signed_at = int(time.time()) if timestamp is None else timestamp
        signatures = ",".join(f"v1={_signature(key, signed_at, payload)}" for key in self._keys)
        return f"t={signed_at},{signatures}"


class StripeSignatureVerifier:
    """Verifies ``Stripe-Signature`` headers against the raw request body."""

    def __init__(
        self, secrets: Sequence[str], *, tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS
    ) -> None:
        """Accept signatures made with any of ``secrets``, at most ``tolerance_seconds`` off."""
        if tolerance_seconds <= 0:
            raise ValueError("tolerance_seconds must be positive")
        self._keys = _secrets_checked(secrets)
        self._tolerance_seconds = tolerance_seconds

    def verify(self, payload: bytes, header: str | None, *, now: float | None = None) -> int:
        """Check ``header`` against the raw ``payload`` bytes; return the signed timestamp.

        The body is never parsed here: verification comes before parsing. Raises a
        :class:`~tessera_contract.signing.errors.SignatureError` subclass on any failure.
        """
        timestamp, candidates = _header_parse(header)
        for key in self._keys:
            expected = _signature(key, timestamp, payload)
            # compare_digest keeps the comparison time independent of where the strings differ.
            if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
                break
        else:
            raise SignatureMismatchError()
        current = time.time() if now is None else now
        if abs(current - timestamp) > self._tolerance_seconds:
            raise TimestampOutsideToleranceError()
        return timestamp


def _header_parse(header: str | None) -> tuple[int, list[str]]:
    if not header or not header.strip():
        raise MissingSignatureError()
    if len(header) > _MAX_HEADER_LENGTH:
        raise MalformedSignatureError()
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, separator, value = item.strip().partition("=")
        if not separator:
            raise MalformedSignatureError()
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                raise MalformedSignatureError()
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
        # Other schemes (v0 is Stripe's test-mode scheme) are ignored, as Stripe does.
    if timestamp is None or not candidates or len(candidates) > _MAX_SIGNATURES:
        raise MalformedSignatureError()
    return timestamp, candidates
