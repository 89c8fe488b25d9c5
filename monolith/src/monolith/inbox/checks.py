"""Start-up checks of the receivers' placement: a receiver that cannot verify must not run."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

from django.conf import settings
from django.core.checks import Error

from .receiver_placement import RECEIVER_PLACEMENTS


def placement_check(**kwargs: Any) -> list[Error]:
    name = settings.WEBHOOK_RECEIVERS_PLACEMENT
    if name not in RECEIVER_PLACEMENTS:
        choices = ", ".join(RECEIVER_PLACEMENTS)
        return [
            Error(
                f"WEBHOOK_RECEIVERS_PLACEMENT is {name!r}; it must be one of {choices}.",
                id="inbox.E001",
            )
        ]
    if name != "inline":
        return []
    errors = []
    if find_spec("tessera_functions") is None:
        errors.append(
            Error(
                "WEBHOOK_RECEIVERS_PLACEMENT is inline, but the webhook functions' package "
                "is not installed in this environment.",
                hint="Install functions/webhooks next to the monolith, or use 'function'.",
                id="inbox.E002",
            )
        )
    for secrets in ("PAYMENT_WEBHOOK_SECRETS", "CARRIER_WEBHOOK_SECRETS"):
        if not getattr(settings, secrets).strip():
            errors.append(
                Error(
                    f"WEBHOOK_RECEIVERS_PLACEMENT is inline, but {secrets} is empty: the "
                    "receivers could not verify a single webhook.",
                    id="inbox.E003",
                )
            )
    return errors
