"""Celery tasks of orders; thin, the work is in services and the carrier client."""

from __future__ import annotations

import httpx
from celery import shared_task

from .carrier import carrier_shipment_request
from .services import SHIPMENT_REQUEST_TASK, order_tracking_number_record


@shared_task(
    name=SHIPMENT_REQUEST_TASK,
    autoretry_for=(httpx.HTTPError,),
    retry_backoff=2,
    retry_backoff_max=600,
    max_retries=10,
)
def order_shipment_request(order_number: str) -> str:
    """Tell the carrier about a fulfilled order and keep its tracking number on the order;
    retried with backoff while the carrier is unreachable."""
    tracking_number = carrier_shipment_request(order_number=order_number)
    order_tracking_number_record(order_number=order_number, tracking_number=tracking_number)
    return tracking_number
