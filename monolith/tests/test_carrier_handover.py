"""Staff mark an order fulfilled: once that commits, the carrier is asked to collect it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.test import Client
from django.urls import reverse

from monolith import celery_app
from monolith.inbox.intake import inbox_envelopes_take
from monolith.orders.models import Order
from monolith.orders.state_machine import OrderStatus

from .factories import make_order
from .webhook_envelopes import payment_event

pytestmark = pytest.mark.django_db


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def carrier(settings) -> Iterator[list[dict[str, Any]]]:
    """A stand-in carrier API on loopback that records shipment requests."""
    requests: list[dict[str, Any]] = []

    def app(environ, start_response):
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        requests.append({"path": environ["PATH_INFO"], **json.loads(body)})
        start_response("202 Accepted", [("Content-Type", "application/json")])
        return [b'{"tracking_number": "SBX-TEST1"}']

    server = make_server("127.0.0.1", 0, app, WSGIServer, _Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.CARRIER_API_URL = f"http://127.0.0.1:{server.server_port}"
    celery_app.conf.task_always_eager = True
    yield requests
    celery_app.conf.task_always_eager = False
    server.shutdown()
    server.server_close()


def test_staff_fulfilment_hands_the_order_to_the_carrier_after_commit(
    carrier: list[dict[str, Any]],
    staff_user,
    product,
    django_capture_on_commit_callbacks,
) -> None:
    order = make_order((product, 1))
    with django_capture_on_commit_callbacks(execute=True):
        inbox_envelopes_take([payment_event(order.payment)])
    client = Client()
    client.force_login(staff_user)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(
            reverse("admin:orders_order_changelist"),
            {"action": "mark_orders_fulfilled", "_selected_action": [order.pk]},
        )
        assert carrier == []  # nothing leaves before the transaction commits

    assert len(callbacks) == 1
    fulfilled = Order.objects.get(pk=order.pk)
    assert fulfilled.status == OrderStatus.FULFILLED
    assert carrier == [{"path": "/shipments", "order_reference": order.number}]
    # The carrier's tracking number is kept, and the order's page and the admin show it.
    assert fulfilled.tracking_number == "SBX-TEST1"
    status = client.get(reverse("orders:status", kwargs={"public_id": order.public_id}))
    assert b"SBX-TEST1" in status.content
    admin_page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert b"SBX-TEST1" in admin_page.content
