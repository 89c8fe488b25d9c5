"""The functions' configuration, read from environment variables in one place.

Every value has a default that works in ``make run`` (the embedded ``filesystem://`` broker
under the same folder the monolith reads); production overrides them in the Lambda
environment (``zappa_settings.json``).
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from tessera_contract.signing import secret_list_parse
from tessera_runtime.brokers import filesystem_transport_options

__all__ = ["DEFAULT_MAX_BODY_BYTES", "FunctionSettings", "broker_transport_options"]

# The contract's limit for webhook bodies (openapi.yaml, PayloadTooLarge).
DEFAULT_MAX_BODY_BYTES = 256 * 1024
# Every broker wait (connect, confirm, socket read) is bounded by this, so that the sender
# gets its 503 well inside the 2 seconds the contract allows.
BROKER_TIMEOUT_SECONDS = 0.8


class FunctionSettings(NamedTuple):
    """What the webhook application needs to know about its environment."""

    broker_url: str
    broker_options: dict[str, object]
    payment_secrets: list[str]
    carrier_secrets: list[str]
    max_body_bytes: int

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "FunctionSettings":
        """Read ``WEBHOOKS_BROKER_URL``, the secret lists and the body limit.

        Missing secrets are a start-up error: a receiver that cannot verify must not run.
        """
        env = os.environ if environ is None else environ
        broker_url = env.get("WEBHOOKS_BROKER_URL", "").strip() or "filesystem://"
        var_dir = Path(env.get("TESSERA_VAR_DIR") or _default_var_dir())
        max_body_bytes = int(env.get("WEBHOOK_MAX_BODY_BYTES") or DEFAULT_MAX_BODY_BYTES)
        if max_body_bytes <= 0:
            raise ValueError("WEBHOOK_MAX_BODY_BYTES must be positive")
        return cls(
            broker_url=broker_url,
            broker_options=broker_transport_options(broker_url, var_dir=var_dir),
            payment_secrets=_secrets(env, "PAYMENT_WEBHOOK_SECRETS"),
            carrier_secrets=_secrets(env, "CARRIER_WEBHOOK_SECRETS"),
            max_body_bytes=max_body_bytes,
        )


def _default_var_dir() -> Path:
    """The checkout's ``var/`` (the monolith's default too), or ``./var`` outside a checkout.

    In a checkout this file is ``<repo>/functions/webhooks/src/tessera_functions/``; installed
    elsewhere (Lambda's /var/task) there is no checkout, and only the filesystem broker,
    which Lambda never uses, would read this.
    """
    parents = Path(__file__).resolve().parents
    if len(parents) > 4 and (parents[4] / "functions" / "webhooks").is_dir():
        return parents[4] / "var"
    return Path.cwd() / "var"


def _secrets(env: Mapping[str, str], name: str) -> list[str]:
    try:
        return secret_list_parse(env.get(name, ""))
    except ValueError:
        raise ValueError(f"{name} must list at least one secret") from None


def broker_transport_options(url: str, *, var_dir: Path) -> dict[str, object]:
    """Transport options that make each broker kind confirmed and bounded in time.

    The filesystem folders follow the monolith's convention (one folder for in and out under
    ``<var>/broker``), so a message written here is read by the monolith's worker.
    """
    scheme = url.split("://", 1)[0]
    if scheme == "filesystem":
        return filesystem_transport_options(var_dir / "broker")
    if scheme in {"amqp", "pyamqp"}:
        # publish returns only once RabbitMQ confirmed it has the message; the socket
        # timeouts bound the waits that have no timeout of their own (declaring the queue).
        return {
            "confirm_publish": True,
            "read_timeout": BROKER_TIMEOUT_SECONDS,
            "write_timeout": BROKER_TIMEOUT_SECONDS,
        }
    if scheme in {"redis", "rediss"}:
        return {
            "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
            "socket_timeout": BROKER_TIMEOUT_SECONDS,
            "retry_on_timeout": False,
            "max_connections": 16,
        }
    if scheme == "sqs":
        # One attempt: botocore's retries would double the wait past the bound (its
        # `max_attempts` counts retries, `total_max_attempts` the first try too); the sender
        # retries instead. The region comes from AWS_REGION, which the Lambda runtime sets.
        return {
            "client-config": {
                "connect_timeout": BROKER_TIMEOUT_SECONDS,
                "read_timeout": BROKER_TIMEOUT_SECONDS,
                "retries": {"total_max_attempts": 1},
            },
        }
    return {}
