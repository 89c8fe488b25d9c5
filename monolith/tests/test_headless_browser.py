"""The headless storefront (frontend/headless) in Debian's Chromium, on its own origin.

The built app is served by the same WhiteNoise WSGI app `make run` uses, on a free port, and
calls the live server's /api/v1/ across origins (the CORS allow-list names the app's origin):
browse, open a product, add it to the cart, change the cart, sign in with a token, see an order
and follow its status.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.test import override_settings
from playwright.sync_api import expect
from tessera_testsupport.browser import chromium, chromium_missing_reason, screenshot_path

from monolith.orders.state_machine import OrderStatus

from .factories import PASSWORD, make_category, make_order, make_product, make_user

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from scripts import headless_storefront

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def headless_origin(live_server, tmp_path) -> Iterator[str]:
    reason = chromium_missing_reason()
    if reason and os.environ.get("CI") != "true":
        pytest.skip(reason)
    headless_storefront.build(api_origin=live_server.url)
    # A test-only server thread around the production WSGI app (gunicorn serves it in make run).
    server = make_server(
        "127.0.0.1", 0, headless_storefront.application(), handler_class=QuietHandler
    )
    origin = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with override_settings(CORS_ALLOWED_ORIGINS=[origin]):
            yield origin
    finally:
        server.shutdown()
        server.server_close()


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
        expect(page.get_by_test_id("order-status")).to_have_text(OrderStatus.PENDING_PAYMENT.value)
        page.screenshot(path=screenshot_path("headless-order"), full_page=True)
