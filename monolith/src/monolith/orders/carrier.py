"""The carrier's shipment API (the sandbox locally): hand a fulfilled order over for delivery."""

from __future__ import annotations

import httpx
from django.conf import settings


def carrier_shipment_request(*, order_number: str) -> str:
    """Ask the carrier to collect the parcel; returns its tracking number.

    Raises httpx.HTTPError when the carrier is unreachable or refuses (the task retries).
    """
    response = httpx.post(
        f"{settings.CARRIER_API_URL.rstrip('/')}/shipments",
        json={"order_reference": order_number},
        timeout=settings.CARRIER_API_TIMEOUT_SECONDS,
    )
    response.raise_for_status()
    tracking_number: str = response.json()["tracking_number"]
    return tracking_number
