"""Internal service tokens: short-lived HS256 JWTs with issuer, audience and expiry.

The monolith sends one as ``Authorization: Bearer <token>`` on every call to the processing
API. Each key has an id (``kid`` in the token header), so verifiers can hold several keys at
once while a key is rotated: add the new key to every verifier, switch issuers to it, then
remove the old one. PyJWT does the encoding and the constant-time signature check.
"""

import re
import time
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import jwt

from tessera_contract.signing.errors import (
    ServiceTokenAudienceError,
    ServiceTokenExpiredError,
    ServiceTokenInvalidError,
)

__all__ = [
    "ServiceTokenClaims",
    "ServiceTokenIssuer",
    "ServiceTokenKeyring",
    "ServiceTokenVerifier",
]

_ALGORITHM = "HS256"
# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash output.
_MIN_KEY_BYTES = 32
_KEY_ID = re.compile(r"\A[A-Za-z0-9_.-]{1,64}\Z")
_REQUIRED_CLAIMS = ["iss", "sub", "aud", "iat", "exp", "jti"]
_BEARER_PREFIX = "bearer "


@dataclass(frozen=True, slots=True)
class ServiceTokenClaims:
    """Who called (issuer), for whom the token is (audience), and when it stops being valid."""

    issuer: str
    subject: str
    audience: str
    issued_at: int
    expires_at: int
    token_id: str


class ServiceTokenKeyring:
    """The active signing keys of the internal services, by key id."""

    def __init__(self, keys: Mapping[str, str | bytes], *, signing_key_id: str) -> None:
        """Hold ``keys`` (key id -> secret); issuers sign with ``signing_key_id``."""
        if not keys:
            raise ValueError("at least one service token key is required")
        checked: dict[str, bytes] = {}
        for key_id, secret in keys.items():
            if not _KEY_ID.match(key_id):
                raise ValueError("a key id must be 1-64 letters, digits, '_', '.' or '-'")
            material = secret.encode() if isinstance(secret, str) else bytes(secret)
            if len(material) < _MIN_KEY_BYTES:
                raise ValueError(f"service token key {key_id!r} is shorter than 32 bytes")
            checked[key_id] = material
        if signing_key_id not in checked:
            raise ValueError("signing_key_id must name one of the keys")
        self._keys = checked
        self.signing_key_id = signing_key_id

    @classmethod
    def parse(cls, value: str) -> "ServiceTokenKeyring":
        """Read ``"<kid>:<secret>,<kid>:<secret>"`` from configuration; the first key signs."""
        keys: dict[str, str] = {}
        for entry in (part.strip() for part in value.split(",")):
            key_id, separator, secret = entry.partition(":")
            if not entry or not separator:
                raise ValueError("service token keys are written '<key id>:<secret>, ...'")
            keys[key_id.strip()] = secret.strip()
        return cls(keys, signing_key_id=next(iter(keys)))

    def signing_key(self) -> bytes:
        """The key new tokens are signed with."""
        return self._keys[self.signing_key_id]

    def key(self, key_id: str) -> bytes | None:
        """The key with id ``key_id``, or None when it is not (or no longer) active."""
        return self._keys.get(key_id)


class ServiceTokenIssuer:
    """Mints tokens for calls from one service (``issuer``) to another (``audience``)."""

    def __init__(
        self, keyring: ServiceTokenKeyring, *, issuer: str, audience: str, ttl_seconds: int = 60
    ) -> None:
        """Issue tokens that live ``ttl_seconds``: long enough for retries, short if leaked."""
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._keyring = keyring
        self._issuer = issuer
        self._audience = audience
        self._ttl_seconds = ttl_seconds

    def issue(self, *, now: float | None = None) -> str:
        """Return a new signed token."""
        issued_at = int(time.time() if now is None else now)
        claims = {
            "iss": self._issuer,
            "sub": self._issuer,
            "aud": self._audience,
            "iat": issued_at,
            "exp": issued_at + self._ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims,
            self._keyring.signing_key(),
            algorithm=_ALGORITHM,
            headers={"kid": self._keyring.signing_key_id},
        )

    def authorization_header(self, *, now: float | None = None) -> str:
        """Return a fresh ``Authorization`` header value."""
        return f"Bearer {self.issue(now=now)}"


class ServiceTokenVerifier:
    """Verifies tokens presented to one service (the ``audience``)."""

    def __init__(
        self,
        keyring: ServiceTokenKeyring,
        *,
        audience: str,
        issuers: Collection[str],
        leeway_seconds: int = 30,
        max_ttl_seconds: int = 300,
    ) -> None:
        """Accept tokens for ``audience`` from ``issuers``, allowing ``leeway_seconds`` of clock
        skew and refusing tokens that were minted to live longer than ``max_ttl_seconds``."""
        if not issuers:
            raise ValueError("at least one accepted issuer is required")
        self._keyring = keyring
        self._audience = audience
        self._issuers = list(issuers)
        self._leeway_seconds = leeway_seconds
        self._max_ttl_seconds = max_ttl_seconds

    def verify(self, token: str) -> ServiceTokenClaims:
        """Check ``token``'s signature, key, issuer, audience and lifetime; return its claims.

        Raises a :class:`~tessera_contract.signing.errors.ServiceTokenError` subclass.
        """
        try:
            key_id = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError:
            raise ServiceTokenInvalidError() from None
        key = self._keyring.key(key_id) if isinstance(key_id, str) else None
        if key is None:
            raise ServiceTokenInvalidError()
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[_ALGORITHM],
                audience=self._audience,
                issuer=self._issuers,
                leeway=self._leeway_seconds,
                options={"require": _REQUIRED_CLAIMS, "strict_aud": True},
            )
        except jwt.ExpiredSignatureError:
            raise ServiceTokenExpiredError() from None
        except jwt.InvalidAudienceError:
            raise ServiceTokenAudienceError() from None
        except jwt.InvalidTokenError:
            raise ServiceTokenInvalidError() from None
        if not _claim_types_valid(claims):
            raise ServiceTokenInvalidError()
        if claims["exp"] - claims["iat"] > self._max_ttl_seconds:
            raise ServiceTokenInvalidError()
        return ServiceTokenClaims(
            issuer=claims["iss"],
            subject=claims["sub"],
            audience=claims["aud"],
            issued_at=claims["iat"],
            expires_at=claims["exp"],
            token_id=claims["jti"],
        )

    def verify_authorization_header(self, value: str | None) -> ServiceTokenClaims:
        """Verify an ``Authorization: Bearer <token>`` header value."""
        if not value or not value[: len(_BEARER_PREFIX)].lower() == _BEARER_PREFIX:
            raise ServiceTokenInvalidError("the Authorization header must carry a bearer token")
        return self.verify(value[len(_BEARER_PREFIX) :].strip())


def _claim_types_valid(claims: Mapping[str, object]) -> bool:
    text_claims = ("iss", "sub", "aud", "jti")
    time_claims = ("iat", "exp")
    return all(isinstance(claims[name], str) for name in text_claims) and all(
        isinstance(claims[name], int) and not isinstance(claims[name], bool) for name in time_claims
    )
