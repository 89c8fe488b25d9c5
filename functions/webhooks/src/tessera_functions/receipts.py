"""What a webhook integration hands back to the HTTP edge once a delivery is verified."""

from typing import NamedTuple

__all__ = ["WebhookReceipt"]


class WebhookReceipt(NamedTuple):
    """A verified, validated delivery.

    ``envelope`` is the message to publish, or None for a correctly signed event of a type
    Tessera does not handle: that one is acknowledged as ``ignored`` and not enqueued.
    """

    event_id: str
    envelope: bytes | None
    traceparent: str
