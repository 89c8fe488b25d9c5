"""The headless storefront (frontend/headless) in Debian's Chromium, on its own origin.

The built app is served by the same WhiteNoise WSGI app `make run` uses, on a free port, and
calls the live server's /api/v1/ across origins (the CORS allow-list names the app's origin):
browse, open a product, add it to the cart, change the cart, sign in with a token, see an order
and follow its status; and the whole purchase, through the running stack: checkout, the
sandbox's pay page, the signed webhook, *paid*, staff fulfilment, the carrier's *delivered*.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.test import override_settings
from playwright.sync_api import expect
from tessera_testsupport import service_missing
from tessera_testsupport.browser import (
    chromium,
    chromium_missing_reason,
    page_assets_assert_loaded,
    page_assets_watch,
    screenshot_path,
)

from monolith.orders.models import Order
from monolith.orders.state_machine import OrderStatus

from .admin_steps import staff_fulfils
from .factories import PASSWORD, make_category, make_order, make_product, make_user
from .running_stack import RunningStack

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from scripts import headless_storefront

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def headless_server(live_server) -> Iterator[str]:
    """The built app on a free port; yields its origin."""
    reason = chromium_missing_reason()
    if reason:
        service_missing(reason)
    headless_storefront.build(api_origin=live_server.url)
    # A test-only server thread around the production WSGI app (gunicorn serves it in make run).
    server = make_server(
        "127.0.0.1", 0, headless_storefront.application(), handler_class=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def headless_origin(headless_server) -> Iterator[str]:
    """The app's origin, on the API's CORS allow-list for the test."""
    with override_settings(CORS_ALLOWED_ORIGINS=[headless_server]):
        yield headless_server


@pytest.fixture
def sandbox_extra_return_origins(headless_server) -> list[str]:
    # The pay page sends the shopper back to the headless app's order page.
    return [headless_server]


def test_a_shopper_browses_buys_into_a_cart_and_follows_an_order(headless_origin):
    kitchen = make_category("Kitchen")
    teapot = make_product(category=kitchen, name="Stoneware teapot", price="30.00", stock=5)
    make_product(category=kitchen, name="Enamel mug", price="9.50", stock=5)
    shopper = make_user("headless-shopper")
    order = make_order((teapot, 1), user=shopper)
    with chromium() as browser:
        page = browser.new_page()
        page.goto(headless_origin + "/")
        expect(page.get_by_test_id("product-list")).to_contain_text("Stoneware teapot")
        page.screenshot(path=screenshot_path("headless-catalog"), full_page=True)

        page.get_by_label("Search").fill("teapot")
        page.get_by_label("Sort by").select_option("-price")
        page.get_by_role("button", name="Apply").click()
        expect(page.get_by_test_id("product-list")).not_to_contain_text("Enamel mug")

        page.get_by_role("link", name="Stoneware teapot").click()
        page.get_by_label("Quantity").fill("2")
        page.get_by_role("button", name="Add to cart").click()
        expect(page.get_by_text("Added to your cart (2 items).")).to_be_visible()
        page.screenshot(path=screenshot_path("headless-product"), full_page=True)

        page.get_by_role("link", name="Cart").click()
        expect(page.get_by_label("Quantity of Stoneware teapot")).to_have_value("2")
        page.get_by_role("button", name="Remove Stoneware teapot").click()
        expect(page.get_by_text("Your cart is empty.")).to_be_visible()

        page.get_by_role("link", name="Sign in").click()
        page.get_by_label("Username").fill("headless-shopper")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Sign in").click()
        # A problem+json 4xx is shown as words, not a blank page.
        expect(page.get_by_role("alert")).not_to_be_empty()
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name=re.compile(f"Order {order.number}")).click()
        expect(page.get_by_test_id("order-status")).to_have_text(OrderStatus.PENDING_PAYMENT.label)
        page.screenshot(path=screenshot_path("headless-order"), full_page=True)


# The order page polls every 2 s; the carrier sandbox waits 0.5 s, then 1 s.
LIVE_UPDATE_TIMEOUT_MS = 20_000


def _sign_in(page, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _fill_address(page) -> None:
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Address", exact=True).fill("1 Canal Street")
    page.get_by_label("Postal code").fill("1011")
    page.get_by_label("City").fill("Amsterdam")
    page.get_by_label("Country code").fill("nl")


@pytest.mark.postgres
def test_a_shopper_buys_through_the_headless_app_and_follows_the_order_to_delivered(
    headless_origin, staff_user, running_stack: RunningStack, live_server
):
    kitchen = make_category("Kitchen")
    make_product(category=kitchen, name="Oak board", price="21.00", stock=5)
    make_user("headless-buyer")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        assets = page_assets_watch(page)
        page.goto(headless_origin + "/")
        page_assets_assert_loaded(page, assets, htmx=False)
        page.get_by_role("link", name="Oak board").click()
        page.get_by_role("button", name="Add to cart").click()
        expect(page.get_by_text("Added to your cart (1 item).")).to_be_visible()
        page.get_by_role("link", name="Cart").click()
        page.get_by_role("link", name="Go to checkout").click()
        page.get_by_role("link", name="sign in to check out").click()
        _sign_in(page, "headless-buyer")
        expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
        _fill_address(page)
        page.screenshot(path=screenshot_path("headless-checkout"), full_page=True)
        page.get_by_role("button", name="Place order and pay").click()

        page.get_by_role("heading", name="Sandbox payment provider").wait_for()
        page.get_by_role("button", name="Pay").click()

        # Back on the app's order page, on the app's origin; it follows the order by itself.
        page.get_by_role("heading", name=re.compile("^Order TS-")).wait_for()
        assert page.url.startswith(headless_origin + "/#/orders/")
        status = page.get_by_test_id("order-status")
        expect(status).to_have_text("Paid", timeout=LIVE_UPDATE_TIMEOUT_MS)
        page.screenshot(path=screenshot_path("headless-order-paid"), full_page=True)
        number = page.get_by_role("heading", name=re.compile("^Order TS-")).inner_text().split()[-1]

        staff_fulfils(browser, live_server.url, username=staff_user.username, order_number=number)

        expect(status).to_have_text("Delivered", timeout=LIVE_UPDATE_TIMEOUT_MS)
        timeline = page.get_by_test_id("order-timeline").inner_text()
        page.screenshot(path=screenshot_path("headless-order-delivered"), full_page=True)
        assert errors == []

    order = Order.objects.get(number=number)
    assert order.user is not None
    assert order.user.username == "headless-buyer"
    assert order.email == "headless-buyer@example.com"
    assert order.shipping_country == "NL"
    assert order.status == OrderStatus.DELIVERED
    for step in ("Paid", "Fulfilled", "Shipped", "Delivered"):
        assert step in timeline
