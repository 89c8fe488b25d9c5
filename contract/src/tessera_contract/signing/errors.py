"""Why a signature or a service token was refused.

Every message is a fixed sentence: it may go into a 401 problem, and it never contains a
secret, an expected signature or the bytes that were checked.
"""


class SignatureError(Exception):
    """A request could not be authenticated. Answer 401; never process the request."""

    default_message = "the signature could not be verified"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class MissingSignatureError(SignatureError):
    """A required signature header is absent or empty."""

    default_message = "the signature header is missing"


class MalformedSignatureError(SignatureError):
    """A signature header is present but cannot be read."""

    default_message = "the signature header is malformed"


class TimestampOutsideToleranceError(SignatureError):
    """The signed timestamp is too old (a replay) or too far in the future (a skewed clock)."""

    default_message = "the signature timestamp is outside the tolerated window"


class SignatureMismatchError(SignatureError):
    """No signature in the header matches the body under any active secret."""

    default_message = "no signature matches the request body"


class ServiceTokenError(SignatureError):
    """An internal service token was refused."""

    default_message = "the service token is invalid"


class ServiceTokenExpiredError(ServiceTokenError):
    """The token's expiry has passed."""

    default_message = "the service token has expired"


class ServiceTokenAudienceError(ServiceTokenError):
    """The token was issued for another service."""

    default_message = "the service token is not meant for this service"


class ServiceTokenInvalidError(ServiceTokenError):
    """The token is malformed, tampered with, signed by an unknown key or an unknown issuer."""

    default_message = "the service token is invalid"
