"""Broker settings shared by every Celery application and message publisher in Tessera.

The broker is configuration: `filesystem://` (the embedded default, which needs no server,
with messages as files under var/broker), `redis://…`, `amqp://…`, or `sqs://` on AWS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tessera_contract.brokers import filesystem_transport_options


def broker_transport_options(url: str, *, var_dir: Path) -> dict[str, Any]:
    """Transport options that make each broker kind durable and confirmed."""
    scheme = url.split("://", 1)[0]
    if scheme == "filesystem":
        return filesystem_transport_options(var_dir / "broker")
    if scheme in {"amqp", "pyamqp"}:
        return {"confirm_publish": True}  # publish returns only once RabbitMQ has the message
    if scheme in {"redis", "rediss"}:
        return {"visibility_timeout": 3600}
    return {}
