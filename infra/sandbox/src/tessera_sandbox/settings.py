"""The sandbox's configuration, read from environment variables in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from tessera_contract.signing import secret_list_parse


class SandboxConfigurationError(Exception):
    """A required variable is missing; the message names it."""


def _secrets(environ: Mapping[str, str], name: str, receiver_name: str) -> list[str]:
    # No default: the sandbox must sign with exactly what the functions verify with.
    value = environ.get(name, "")
    if not value.strip():
        raise SandboxConfigurationError(f"{name} is not set (use the value of {receiver_name})")
    return secret_list_parse(value)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class SandboxSettings:
    payments_webhook_url: str
    carrier_webhook_url: str
    payment_secrets: list[str]
    carrier_secrets: list[str]
    return_origins: frozenset[str]
    max_attempts: int
    retry_base_seconds: float
    request_timeout_seconds: float
    in_transit_delay_seconds: float
    delivered_delay_seconds: float

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> SandboxSettings:
        origins = environ.get(
            "SANDBOX_RETURN_ORIGINS",
            # The server-rendered shop and the headless storefront of the embedded run.
            "http://127.0.0.1:8000,http://localhost:8000,http://127.0.0.1:8004,http://localhost:8004",
        )
        return cls(
            payments_webhook_url=environ.get(
                "SANDBOX_PAYMENTS_WEBHOOK_URL", "http://127.0.0.1:8002/webhooks/payments"
            ),
            carrier_webhook_url=environ.get(
                "SANDBOX_CARRIER_WEBHOOK_URL", "http://127.0.0.1:8002/webhooks/carrier"
            ),
            payment_secrets=_secrets(environ, "SANDBOX_PAYMENT_SECRETS", "PAYMENT_WEBHOOK_SECRETS"),
            carrier_secrets=_secrets(environ, "SANDBOX_CARRIER_SECRETS", "CARRIER_WEBHOOK_SECRETS"),
            return_origins=frozenset(
                origin_of(item.strip()) for item in origins.split(",") if item.strip()
            ),
            max_attempts=int(environ.get("SANDBOX_MAX_ATTEMPTS", "8")),
            retry_base_seconds=float(environ.get("SANDBOX_RETRY_BASE_SECONDS", "1")),
            request_timeout_seconds=float(environ.get("SANDBOX_REQUEST_TIMEOUT_SECONDS", "5")),
            in_transit_delay_seconds=float(environ.get("SANDBOX_IN_TRANSIT_DELAY_SECONDS", "2")),
            delivered_delay_seconds=float(environ.get("SANDBOX_DELIVERED_DELAY_SECONDS", "6")),
        )
