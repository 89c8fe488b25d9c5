"""A shopper's journeys in Debian's Chromium, through the whole running stack.

Browse, add to cart without reloads, check out, pay or decline on the sandbox's pay page; the
signed webhook goes through the functions and RabbitMQ to the monolith worker, and the order
page follows by itself: *paid*, then, once staff fulfil the order in the admin, the carrier
sandbox's *in transit* and *delivered*.
"""

from __future__ import annotations

import re
import time

import pytest
from django.db import models
from playwright.sync_api import Page, expect
from tessera_testsupport import service_missing
from tessera_testsupport.browser import (
    chromium,
    chromium_missing_reason,
    guest_checkout_fill,
    page_assets_assert_loaded,
    page_assets_watch,
    screenshot_path,
)

from monolith.orders.models import Order
from monolith.orders.state_machine import OrderStatus

from .admin_steps import staff_fulfils
from .factories import make_category, make_product
from .running_stack import RunningStack

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]
# The order page asks for its status every 2 s; the carrier sandbox here waits 0.5 s, then 1 s.
LIVE_UPDATE_TIMEOUT_MS = 20_000


@pytest.fixture
def shop():
    kitchen = make_category("Kitchen")
    return [
        make_product(category=kitchen, name="Stoneware teapot", price="30.00", stock=5),
        make_product(category=kitchen, name="Enamel mug", price="9.50", stock=5),
        make_product(category=kitchen, name="Oak board", price="21.00", stock=5),
    ]


def _shopper_checks_out(page: Page) -> None:
    """From the cart to the pay page: the checkout form, filled in as a guest."""
    page.get_by_role("link", name=re.compile(r"^Cart \d+ items?$")).click()
    page.get_by_role("link", name="Go to checkout").click()
    guest_checkout_fill(
        page, email="guest@example.com", full_name="Grace Guest", address="1 Canal Street"
    )


def _same_document_watch(page: Page) -> list[str]:
    """Mark the document and record navigations: a reload would drop the mark."""
    page.evaluate("window.__sameDocument = true")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    return navigations


def _status_badge_wait(page: Page, label: str) -> float:
    """Wait for the order page to show `label` by itself; return the seconds it took."""
    started = time.monotonic()
    page.locator("#order-status .badge", has_text=label).wait_for(timeout=LIVE_UPDATE_TIMEOUT_MS)
    return time.monotonic() - started


def test_shopper_adds_two_products_without_a_page_load_and_declines_to_pay(
    live_server, shop, running_stack: RunningStack
):
    if reason := chromium_missing_reason():
        service_missing(reason)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        assets = page_assets_watch(page)
        page.goto(f"{live_server.url}/")
        page.get_by_role("heading", name="All products").wait_for()
        page_assets_assert_loaded(page, assets)

        # A marker on window survives only if the document is never replaced by a navigation.
        navigations = _same_document_watch(page)

        mini_cart_count = page.locator("#mini-cart .mini-cart__count")
        page.get_by_role("button", name=re.compile(r"^Add to cart\W+Stoneware teapot$")).click()
        page.get_by_text("Added 1 × Stoneware teapot to your cart.").wait_for()
        # A locator assertion, not wait_for_function: the page's CSP forbids eval.
        expect(page.locator("#mini-cart")).to_contain_text("1")
        page.get_by_role("button", name=re.compile(r"^Add to cart\W+Enamel mug$")).click()
        page.get_by_text("Added 1 × Enamel mug to your cart.").wait_for()
        expect(page.locator("#mini-cart")).to_contain_text("2")
        assert mini_cart_count.inner_text().startswith("2")
        assert page.evaluate("window.__sameDocument") is True
        assert navigations == []
        page.screenshot(path=screenshot_path("1-catalog-with-cart"), full_page=False)

        _shopper_checks_out(page)
        page.screenshot(path=screenshot_path("2-checkout"), full_page=True)
        page.get_by_role("button", name="Place order").click()

        page.get_by_role("heading", name="Sandbox payment provider").wait_for()
        assert page.url.startswith(f"{running_stack.sandbox_url}/pay?")
        amount_to_pay = page.locator("#amount").inner_text()
        page.get_by_role("button", name="Decline").click()

        page.get_by_role("heading", name="Order TS-").wait_for()
        navigations = _same_document_watch(page)
        # The declined payment's webhook reaches the worker; the timeline says so by itself.
        page.locator("#order-status", has_text="Your card was declined").wait_for(
            timeout=LIVE_UPDATE_TIMEOUT_MS
        )
        assert "Pending payment" in page.locator("#order-status .badge").inner_text()
        assert page.evaluate("window.__sameDocument") is True
        assert navigations == []
        page.screenshot(path=screenshot_path("3-order-declined"), full_page=True)
        assert errors == []

    order = Order.objects.get()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert amount_to_pay == f"{order.total:.2f} {order.currency}"
    assert sorted(line.name for line in order.lines.all()) == ["Enamel mug", "Stoneware teapot"]


def test_shopper_pays_and_the_order_page_follows_to_delivered_without_a_reload(
    live_server, shop, staff_user, running_stack: RunningStack
):
    if reason := chromium_missing_reason():
        service_missing(reason)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        assets = page_assets_watch(page)
        page.goto(f"{live_server.url}/")
        page_assets_assert_loaded(page, assets)
        page.get_by_role("button", name=re.compile(r"^Add to cart\W+Oak board$")).click()
        page.get_by_text("Added 1 × Oak board to your cart.").wait_for()
        _shopper_checks_out(page)
        page.get_by_role("button", name="Place order").click()

        page.get_by_role("heading", name="Sandbox payment provider").wait_for()
        page.get_by_role("button", name="Pay").click()

        # Back on the order page: from here on, every change must arrive without a navigation.
        page.get_by_role("heading", name="Order TS-").wait_for()
        navigations = _same_document_watch(page)
        seconds_to_paid = _status_badge_wait(page, "Paid")
        page.screenshot(path=screenshot_path("4-order-paid"), full_page=True)
        assert page.evaluate("window.__sameDocument") is True
        assert navigations == []

        # Playwright's sync API runs an event loop here: the database is read after the block.
        order_number = page.get_by_role("heading", name="Order TS-").inner_text().split()[-1]
        staff_fulfils(
            browser, live_server.url, username=staff_user.username, order_number=order_number
        )

        seconds_to_delivered = _status_badge_wait(page, "Delivered")
        timeline = page.locator("#order-status .timeline").inner_text()
        # Recorded when the carrier took the parcel, before its first event: on the page by now.
        tracking = page.locator("#order-status .order-status__tracking").inner_text()
        page.screenshot(path=screenshot_path("5-order-delivered"), full_page=True)
        assert page.evaluate("window.__sameDocument") is True
        assert navigations == []
        assert errors == []

    order = Order.objects.get()
    assert order.number == order_number
    assert order.status == OrderStatus.DELIVERED
    assert order.tracking_number
    assert order.tracking_number in tracking
    for step in ("Paid", "Fulfilled", "Shipped", "Delivered"):
        assert step in timeline
    steps = list(
        order.transitions.exclude(from_status=models.F("to_status")).values_list(
            "to_status", flat=True
        )
    )
    assert steps[-4:] == ["paid", "fulfilled", "shipped", "delivered"]
    print(
        f"order page showed paid after {seconds_to_paid:.1f} s, "
        f"delivered {seconds_to_delivered:.1f} s after fulfilment"
    )
