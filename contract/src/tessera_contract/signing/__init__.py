"""Signing and verification for the three schemes Tessera uses.

- ``stripe_compatible``: payment provider webhooks (``Stripe-Signature``);
- ``standard_webhooks``: carrier webhooks and the processing service's job-result callback;
- ``service_tokens``: bearer tokens on internal API calls (imports PyJWT, so it is not
  imported here; import it where it is used).

Every verifier takes the raw body bytes, never parses them, compares in constant time, and
accepts several active secrets at once so that secrets rotate without downtime.
"""

from tessera_contract.signing.errors import (
    MalformedSignatureError,
    MissingSignatureError,
    ServiceTokenAudienceError,
    ServiceTokenError,
    ServiceTokenExpiredError,
    ServiceTokenInvalidError,
    SignatureError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
)
from tessera_contract.signing.secret_lists import secret_list_parse
from tessera_contract.signing.standard_webhooks import (
    StandardWebhookDelivery,
    StandardWebhookSigner,
    StandardWebhookVerifier,
    standard_webhook_secret_generate,
)
from tessera_contract.signing.stripe_compatible import (
    StripeSignatureSigner,
    StripeSignatureVerifier,
)

__all__ = [
    "MalformedSignatureError",
    "MissingSignatureError",
    "ServiceTokenAudienceError",
    "ServiceTokenError",
    "ServiceTokenExpiredError",
    "ServiceTokenInvalidError",
    "SignatureError",
    "SignatureMismatchError",
    "StandardWebhookDelivery",
    "StandardWebhookSigner",
    "StandardWebhookVerifier",
    "StripeSignatureSigner",
    "StripeSignatureVerifier",
    "TimestampOutsideToleranceError",
    "secret_list_parse",
    "standard_webhook_secret_generate",
]
