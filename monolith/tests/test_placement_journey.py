"""The demo journey once per placement (#15), through the same test code and over HTTP only.

``hybrid``: the processing service and the webhook functions run as processes of their own;
``hybrid-cloud-function`` the same, the functions served by Google Cloud Functions' runtime
(functions-framework).
``monolith``: neither runs; the monolith's worker runs the processing jobs and its web process
receives the webhooks. Either way: staff upload a product image and real renditions appear on
the product page; a shopper checks out and pays on the sandbox's pay page; the signed webhook
makes the order *paid*, its invoice PDF appears behind the order's link; staff fulfil it and
the carrier sandbox's webhooks take it to *delivered*.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.db import models
from django.urls import reverse
from PIL import Image
from tessera_testsupport.shop_http import csrf_token, guest_checks_out, sandbox_pays

from monolith.catalog.models import ProductImage
from monolith.jobs.models import ProcessingJob, ProcessingJobStatus
from monolith.orders.models import Order
from monolith.orders.state_machine import OrderStatus

from .factories import PASSWORD, make_category, make_product
from .processing_support import wait_for
from .running_stack import RunningStack
from .test_processing_roundtrip import jpeg

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Renditions and invoices take seconds; the carrier sandbox waits 0.5 s, then 1 s.
JOURNEY_STEP_TIMEOUT = 60.0


@pytest.fixture
def browser_like() -> Iterator[list[httpx.Client]]:
    """HTTP clients that keep their cookies, as browsers do; closed after the test."""
    clients: list[httpx.Client] = []
    yield clients
    for client in clients:
        client.close()


def staff_logs_in(client: httpx.Client, *, username: str) -> None:
    login = reverse("admin:login")
    response = client.post(
        login,
        data={
            "csrfmiddlewaretoken": csrf_token(client, login),
            "username": username,
            "password": PASSWORD,
            "next": reverse("admin:index"),
        },
    )
    assert response.status_code == 302, response.text[-2000:]


def step_wait(stack: RunningStack, check: Callable[[], Any], *, what: str) -> Any:
    """Poll ``check`` until it returns something truthy; a part of the stack that died fails
    the test at once, with the end of its log."""

    def alive_and() -> Any:
        stack.check_alive()
        return check()

    return wait_for(alive_and, timeout=JOURNEY_STEP_TIMEOUT, what=what, every=0.3)


@pytest.mark.parametrize(
    "running_stack",
    [{"placement": "hybrid"}, {"placement": "hybrid-cloud-function"}, {"placement": "monolith"}],
    indirect=True,
    ids=["hybrid", "hybrid-cloud-function", "monolith"],
)
def test_the_demo_journey_from_upload_to_delivery(
    live_server, settings, staff_user, running_stack: RunningStack, browser_like
):
    staff = httpx.Client(base_url=live_server.url, timeout=10)
    shopper = httpx.Client(base_url=live_server.url, timeout=10)
    browser_like += [staff, shopper]
    product = make_product(category=make_category("Kitchen"), name="Red mug", price="18.00")

    # Staff upload a product image in the admin; its renditions appear on the product page.
    staff_logs_in(staff, username=staff_user.username)
    image_add = reverse("admin:catalog_productimage_add")
    uploaded = staff.post(
        image_add,
        data={
            "csrfmiddlewaretoken": csrf_token(staff, image_add),
            "product": str(product.pk),
            "alt_text": "A red mug",
            "position": "0",
        },
        files={"image": ("mug.jpg", jpeg((1600, 1200)), "image/jpeg")},
    )
    assert uploaded.status_code == 302, uploaded.text[-2000:]
    product_page = reverse("catalog:product_detail", args=[product.slug])

    def page_with_renditions() -> str | None:
        text = shopper.get(product_page).text
        return text if " 1280w" in text else None

    page = step_wait(running_stack, page_with_renditions, what="renditions on the product page")
    image = ProductImage.objects.get()
    widths = sorted(r["width"] for r in image.renditions if r["media_type"] == "image/webp")
    assert widths == [320, 640, 1280]
    assert " 320w, " in page
    assert f"background-color: {image.placeholder_colour}" in page
    # Written where the live server serves media from, whichever process made them.
    for rendition in image.renditions:
        data = (settings.MEDIA_ROOT / rendition["location"]).read_bytes()
        assert Image.open(io.BytesIO(data)).width == rendition["width"]

    # The shopper puts the mug in the cart and checks out; the shop sends them to the pay page.
    cart_add = shopper.post(
        reverse("cart:add", args=[product.pk]),
        data={"csrfmiddlewaretoken": csrf_token(shopper, product_page), "quantity": "2"},
    )
    assert cart_add.status_code == 302, cart_add.text[-2000:]
    pay_page_url = guest_checks_out(shopper)
    assert pay_page_url.startswith(f"{running_stack.sandbox_url}/pay?")

    # On the sandbox's pay page, the shopper presses Pay: its form is posted as a browser would.
    order_page = sandbox_pays(pay_page_url)
    assert order_page.startswith(f"{live_server.url}/orders/")
    assert shopper.get(urlsplit(order_page).path).status_code == 200
    order = Order.objects.get()
    assert order.lines.get().quantity == 2

    # The signed payment webhook reaches the placement's receiver; the order becomes paid.
    status_fragment = reverse("orders:status", args=[order.public_id])
    step_wait(
        running_stack,
        lambda: "badge--paid" in shopper.get(status_fragment).text,
        what="the order paid",
    )

    # Its invoice job runs where the placement puts it; the order's link serves the PDF.
    invoice_fragment = reverse("orders:invoice_status", args=[order.public_id])
    step_wait(
        running_stack,
        lambda: "data-invoice-link" in shopper.get(invoice_fragment).text,
        what="the invoice link",
    )
    link = re.search(r'data-invoice-link href="([^"]+)"', shopper.get(invoice_fragment).text)
    assert link
    invoice = shopper.get(link.group(1))
    assert invoice.status_code == 200
    assert invoice.headers["Content-Type"] == "application/pdf"
    assert invoice.content.startswith(b"%PDF-")
    assert len(invoice.content) > 1000
    invoice_job = ProcessingJob.objects.get(kind="invoice_pdf")
    assert invoice_job.status == ProcessingJobStatus.SUCCEEDED

    # Staff fulfil the order in the admin; the carrier sandbox's webhooks deliver it.
    changelist = reverse("admin:orders_order_changelist")
    fulfilled = staff.post(
        changelist,
        data={
            "csrfmiddlewaretoken": csrf_token(staff, changelist),
            "action": "mark_orders_fulfilled",
            "_selected_action": str(order.pk),
            "index": "0",
        },
    )
    assert fulfilled.status_code == 302, fulfilled.text[-2000:]
    step_wait(
        running_stack,
        lambda: "badge--delivered" in shopper.get(status_fragment).text,
        what="the order delivered",
    )

    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert order.tracking_number.startswith("SBX-")
    steps = list(
        order.transitions.exclude(from_status=models.F("to_status")).values_list(
            "to_status", flat=True
        )
    )
    assert steps[-4:] == ["paid", "fulfilled", "shipped", "delivered"]
