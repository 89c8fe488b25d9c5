"""A shopper's journey in Debian's Chromium: browse, add to cart without reloads, check out."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer, make_server

import pytest
from tessera_contract.signing import standard_webhook_secret_generate
from tessera_sandbox.app import SandboxApp
from tessera_sandbox.delivery import WebhookSender
from tessera_sandbox.settings import SandboxSettings
from tessera_testsupport import service_missing

from monolith.orders.models import Order

from .browser import chromium, chromium_missing_reason, screenshot_path
from .factories import make_category, make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop():
    kitchen = make_category("Kitchen")
    return [
        make_product(category=kitchen, name="Stoneware teapot", price="30.00", stock=5),
        make_product(category=kitchen, name="Enamel mug", price="9.50", stock=5),
        make_product(category=kitchen, name="Oak board", price="21.00", stock=5),
    ]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def payment_sandbox(live_server, settings) -> Iterator[str]:
    """The real sandbox pay page; with no webhook function running its webhook goes nowhere."""
    nowhere = f"http://127.0.0.1:{_closed_port()}"
    sandbox_settings = SandboxSettings.from_environment(
        {
            "SANDBOX_PAYMENTS_WEBHOOK_URL": f"{nowhere}/webhooks/payments",
            "SANDBOX_CARRIER_WEBHOOK_URL": f"{nowhere}/webhooks/carrier",
            "SANDBOX_PAYMENT_SECRETS": "whsec_browser_journey",
            "SANDBOX_CARRIER_SECRETS": standard_webhook_secret_generate(),
            "SANDBOX_RETURN_ORIGINS": live_server.url,
            "SANDBOX_MAX_ATTEMPTS": "1",
        }
    )
    server = make_server("127.0.0.1", 0, SandboxApp(WebhookSender(sandbox_settings)), WSGIServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.PAYMENT_PROVIDER_URL = f"http://127.0.0.1:{server.server_port}"
    yield settings.PAYMENT_PROVIDER_URL
    server.shutdown()
    server.server_close()


def test_shopper_adds_two_products_without_a_page_load_and_checks_out(
    live_server, shop, payment_sandbox
):
    if reason := chromium_missing_reason():
        service_missing(reason)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live_server.url}/")
        page.get_by_role("heading", name="All products").wait_for()

        # A marker on window survives only if the document is never replaced by a navigation.
        page.evaluate("window.__sameDocument = true")
        navigations: list[str] = []
        page.on("framenavigated", lambda frame: navigations.append(frame.url))

        mini_cart_count = page.locator("#mini-cart .mini-cart__count")
        page.get_by_role("button", name=re.compile(r"^Add to cart\W+Stoneware teapot$")).click()
        page.get_by_text("Added 1 × Stoneware teapot to your cart.").wait_for()
        page.wait_for_function("document.querySelector('#mini-cart').textContent.includes('1')")
        page.get_by_role("button", name=re.compile(r"^Add to cart\W+Enamel mug$")).click()
        page.get_by_text("Added 1 × Enamel mug to your cart.").wait_for()
        page.wait_for_function("document.querySelector('#mini-cart').textContent.includes('2')")
        assert mini_cart_count.inner_text().startswith("2")
        assert page.evaluate("window.__sameDocument") is True
        assert navigations == []
        page.screenshot(path=screenshot_path("1-catalog-with-cart"), full_page=False)

        page.get_by_role("link", name="Cart 2 items").click()
        page.get_by_role("link", name="Go to checkout").click()
        page.get_by_label("Email").fill("guest@example.com")
        page.get_by_label("Full name").fill("Grace Guest")
        page.get_by_label("Address", exact=True).fill("1 Canal Street")
        page.get_by_label("Postal code").fill("1011")
        page.get_by_label("City").fill("Amsterdam")
        page.get_by_label("Country").select_option("NL")
        page.screenshot(path=screenshot_path("2-checkout"), full_page=True)
        page.get_by_role("button", name="Place order").click()

        page.get_by_role("heading", name="Sandbox payment provider").wait_for()
        assert page.url.startswith(f"{payment_sandbox}/pay?")
        amount_to_pay = page.locator("#amount").inner_text()
        page.get_by_role("button", name="Decline").click()

        page.get_by_role("heading", name="Order TS-").wait_for()
        status = page.locator("#order-status")
        assert "Pending payment" in status.inner_text()
        page.screenshot(path=screenshot_path("3-order-pending"), full_page=True)
        assert errors == []

    order = Order.objects.get()
    assert order.status == "pending_payment"
    assert amount_to_pay == f"{order.total:.2f} {order.currency}"
    assert sorted(line.name for line in order.lines.all()) == ["Enamel mug", "Stoneware teapot"]
