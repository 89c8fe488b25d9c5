"""The sandbox's WSGI application (port 8003): the pay page and the carrier's shipment API.

Plain WSGI on the standard library: two pages and one JSON endpoint need no framework, and
the sandbox stays free of the platform's dependencies.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs

from .delivery import WebhookSender
from .events import (
    Checkout,
    PaymentOutcome,
    ShipmentEventType,
    payment_event_body,
    provider_id,
    shipment_event_body,
)
from .settings import origin_of

logger = logging.getLogger(__name__)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Environ = dict[str, Any]

REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{7,63}$")
ORDER_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")
CURRENCY = re.compile(r"^[A-Za-z]{3}$")
MAX_BODY = 16_384

PAY_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox payment</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto">
<h1>Sandbox payment provider</h1>
<p>Pay <strong id="amount">{amount} {currency}</strong> for order {order}?</p>
<p><small>Payment reference {reference}.
Nothing is charged: this page stands in for the provider.</small></p>
<form method="post" action="/pay">
<input type="hidden" name="reference" value="{reference}">
<input type="hidden" name="amount" value="{amount}">
<input type="hidden" name="currency" value="{currency}">
<input type="hidden" name="order" value="{order}">
<input type="hidden" name="return_url" value="{return_url}">
<button type="submit" name="outcome" value="succeeded">Pay</button>
<button type="submit" name="outcome" value="declined">Decline</button>
</form></body></html>
"""


class BadRequest(Exception):
    """Input the sandbox refuses; the message is shown to the caller."""


def _respond(
    start_response: StartResponse,
    status: str,
    body: bytes,
    content_type: str = "text/plain; charset=utf-8",
    extra: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    start_response(
        status,
        [("Content-Type", content_type), ("Content-Length", str(len(body))), *extra],
    )
    return [body]


def _json(start_response: StartResponse, status: str, document: object) -> list[bytes]:
    return _respond(start_response, status, json.dumps(document).encode(), "application/json")


def _body(environ: Environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError as error:
        raise BadRequest("bad Content-Length") from error
    if length > MAX_BODY:
        raise BadRequest("body too large")
    stream = environ["wsgi.input"]
    data: bytes = stream.read(length) if length else b""
    return data


def _field(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name)
    if not values:
        raise BadRequest(f"{name} is required")
    return values[0].strip()


class SandboxApp:
    """Routes the sandbox's few endpoints; deliveries go out through a WebhookSender."""

    def __init__(self, sender: WebhookSender) -> None:
        self.sender = sender
        self.settings = sender.settings

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
        try:
            if path in {"/healthz", "/readyz"} and method == "GET":
                return _json(start_response, "200 OK", {"status": "ok"})
            if path == "/pay" and method == "GET":
                fields = parse_qs(environ.get("QUERY_STRING", ""))
                return self._pay_page(start_response, fields)
            if path == "/pay" and method == "POST":
                fields = parse_qs(_body(environ).decode("utf-8", "replace"))
                return self._pay(start_response, fields)
            if path == "/shipments" and method == "POST":
                return self._shipment_create(start_response, _body(environ))
        except BadRequest as error:
            return _respond(start_response, "400 Bad Request", f"{error}\n".encode())
        return _respond(start_response, "404 Not Found", b"not found\n")

    def _checkout(self, fields: dict[str, list[str]]) -> tuple[Checkout, str, str]:
        reference = _field(fields, "reference")
        currency = _field(fields, "currency").upper()
        order = fields.get("order", [""])[0].strip()
        return_url = _field(fields, "return_url")
        if not REFERENCE.match(reference):
            raise BadRequest("reference is not a payment reference")
        if not CURRENCY.match(currency):
            raise BadRequest("currency must be a 3-letter code")
        if order and not ORDER_NUMBER.match(order):
            raise BadRequest("order is not an order number")
        try:
            amount = Decimal(_field(fields, "amount"))
        except InvalidOperation as error:
            raise BadRequest("amount must be a decimal number") from error
        if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
            raise BadRequest("amount must be positive with at most 2 decimals")
        # Redirecting anywhere a link says would make the sandbox an open redirect.
        if origin_of(return_url) not in self.settings.return_origins:
            raise BadRequest("return_url is not on an allowed origin")
        checkout = Checkout(
            payment_reference=reference,
            amount_minor=int(amount * 100),
            currency=currency,
            order_number=order,
        )
        return checkout, f"{amount:.2f}", return_url

    def _pay_page(self, start_response: StartResponse, fields: dict[str, list[str]]) -> list[bytes]:
        checkout, amount, return_url = self._checkout(fields)
        page = PAY_PAGE.format(
            amount=html.escape(amount),
            currency=html.escape(checkout.currency),
            order=html.escape(checkout.order_number or "—"),
            reference=html.escape(checkout.payment_reference),
            return_url=html.escape(return_url),
        )
        return _respond(start_response, "200 OK", page.encode(), "text/html; charset=utf-8")

    def _pay(self, start_response: StartResponse, fields: dict[str, list[str]]) -> list[bytes]:
        checkout, _, return_url = self._checkout(fields)
        outcome = _field(fields, "outcome")
        if outcome not in {"succeeded", "declined"}:
            raise BadRequest("outcome must be succeeded or declined")
        payment_outcome: PaymentOutcome = "succeeded" if outcome == "succeeded" else "declined"
        body = payment_event_body(checkout, outcome=payment_outcome)
        self.sender.in_background(lambda: self.sender.payment_send(body))
        return _respond(start_response, "303 See Other", b"", extra=[("Location", return_url)])

    def _shipment_create(self, start_response: StartResponse, raw: bytes) -> list[bytes]:
        try:
            document = json.loads(raw)
        except ValueError as error:
            raise BadRequest("body must be JSON") from error
        order_reference = document.get("order_reference") if isinstance(document, dict) else None
        if not isinstance(order_reference, str) or not ORDER_NUMBER.match(order_reference):
            raise BadRequest("order_reference is required")
        tracking_number = "SBX-" + provider_id("trk").removeprefix("trk_").upper()
        self._shipment_event_schedule(
            "shipment.in_transit",
            order_reference=order_reference,
            tracking_number=tracking_number,
            delay_seconds=self.settings.in_transit_delay_seconds,
        )
        self._shipment_event_schedule(
            "shipment.delivered",
            order_reference=order_reference,
            tracking_number=tracking_number,
            delay_seconds=self.settings.delivered_delay_seconds,
        )
        return _json(
            start_response,
            "202 Accepted",
            {"order_reference": order_reference, "tracking_number": tracking_number},
        )

    def _shipment_event_schedule(
        self,
        event_type: ShipmentEventType,
        *,
        order_reference: str,
        tracking_number: str,
        delay_seconds: float,
    ) -> None:
        body = shipment_event_body(
            event_type=event_type, order_reference=order_reference, tracking_number=tracking_number
        )
        message_id = provider_id("msg")
        self.sender.in_background(
            lambda: self.sender.carrier_send(body, message_id=message_id),
            delay_seconds=delay_seconds,
        )
