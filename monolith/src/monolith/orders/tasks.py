"""Celery tasks of orders; thin, the work is in services and the carrier client."""

from __future__ import annotations

import httpx
from celery import shared_task

from .carrier import carrier_shipment_request


@shared_task(
    name="orders.order_shipment_request",
    autoretry_for=(httpx.HTTPError,),
    retry_backoff=2,
    retry_backoff_max=600,
    max_retries=10,
)
def order_shipment_request(order_number: str) -> str:
    """Tell the carrier about a fulfilled order; retried with backoff while it is unreachable."""
    return carrier_shipment_request(order_number=order_number)
