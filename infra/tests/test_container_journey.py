"""The whole demo loop through nginx and the containers of docker-compose.yml, in Chromium.

browse → cart → checkout → the sandbox's pay page → Pay → signed webhook → the functions
container → RabbitMQ → the monolith worker → the open order page shows *paid* by itself; then
one monolith replica's container is killed (SIGKILL) and every following request is served by
the other: staff fulfil in the admin → the carrier sandbox's events → *delivered* on the same
open page → the invoice link that appeared without a reload serves a PDF made by the processing
worker → a product image uploaded in the admin → renditions in the product page's srcset,
served by nginx from the shared volume. And the headless storefront's build, from the nginx
image's own server block for it, listing the catalog through the API across origins.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode, urljoin

import httpx
import pytest
from PIL import Image
from playwright.sync_api import APIResponse, Browser, Page, Response, expect
from tessera_testsupport import service_missing
from tessera_testsupport.browser import (
    chromium,
    chromium_missing_reason,
    guest_checkout_fill,
    page_assets_assert_loaded,
    page_assets_watch,
)

from scripts.container_stack import (
    HEADLESS_URL,
    PROCESSING_URL,
    PUBLIC_URL,
    SANDBOX_URL,
    RunningStack,
)
from scripts.headless_storefront import content_security_policy

pytestmark = pytest.mark.browser

# Webhook → function → queue → worker → page poll (2 s): a few seconds when idle.
LIVE_UPDATE_TIMEOUT_MS = 30_000
# Invoice and renditions go through the processing service and its callback.
PROCESSING_TIMEOUT_MS = 60_000
RENDITION_WIDTHS = ("320w", "640w", "1280w")
UPLOAD_ALT = "Uploaded during the container journey"
AnyResponse = TypeVar("AnyResponse", Response, APIResponse)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if reason := chromium_missing_reason():
        service_missing(reason)
    with chromium() as launched:
        yield launched


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"not reached within {timeout:.0f} s: {what}")


def lines_after(text: str, marker: str) -> list[str]:
    """The log lines after the last one that mentions `marker`."""
    lines = text.splitlines()
    for index in range(len(lines) - 1, -1, -1):
        if marker in lines[index]:
            return lines[index + 1 :]
    raise AssertionError(f"{marker} is not in the log")


def expect_ok(response: AnyResponse | None, what: str) -> AnyResponse:
    assert response is not None, what
    assert response.status < 400, f"{what}: HTTP {response.status} from {response.url}"
    return response


def staff_login(page: Page, base: str, staff: tuple[str, str]) -> None:
    expect_ok(page.goto(f"{base}/admin/login/?next=/admin/"), "admin login page")
    page.get_by_label("Username").fill(staff[0])
    page.get_by_label("Password").fill(staff[1])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Site administration").wait_for()


def test_shopper_and_staff_journey_survives_a_killed_replica(
    browser: Browser, container_stack: RunningStack, tmp_path: Path
) -> None:
    base = PUBLIC_URL
    errors: list[str] = []
    shopper_context = browser.new_context(viewport={"width": 1280, "height": 900})
    shopper = shopper_context.new_page()
    shopper.on("pageerror", lambda error: errors.append(str(error)))

    # The page's own stylesheet, htmx and images come through nginx, or nothing else works.
    assets = page_assets_watch(shopper)
    expect_ok(shopper.goto(f"{base}/"), "catalog")
    shopper.get_by_role("heading", name="All products").wait_for()
    page_assets_assert_loaded(shopper, assets)

    # Browse and add to the cart (htmx, no page load), check out as a guest.
    add_buttons = shopper.get_by_role("button", name=re.compile(r"^Add to cart\W+"))
    add_buttons.first.click()
    # A locator assertion, not wait_for_function: the page's CSP forbids eval.
    expect(shopper.locator("#mini-cart")).to_contain_text("1")
    shopper.get_by_role("link", name=re.compile(r"^Cart 1 item")).click()
    shopper.get_by_role("link", name="Go to checkout").click()
    guest_checkout_fill(
        shopper, email="dana@example.com", full_name="Dana Distributed", address="8 Container Lane"
    )
    shopper.get_by_role("button", name="Place order").click()

    # The sandbox provider's pay page, then back to the shop through nginx.
    shopper.get_by_role("heading", name="Sandbox payment provider").wait_for()
    assert shopper.url.startswith(f"{SANDBOX_URL}/pay?"), shopper.url
    shopper.get_by_role("button", name="Pay", exact=True).click()
    shopper.get_by_role("heading", name=re.compile(r"^Order TS-")).wait_for()
    assert shopper.url.startswith(base), shopper.url
    order_url = shopper.url

    # From here on the page must update itself: a marker on window dies with any navigation.
    shopper.evaluate("window.__sameDocument = true")
    status = shopper.locator("#order-status .badge")
    status.filter(has_text="Paid").wait_for(timeout=LIVE_UPDATE_TIMEOUT_MS)

    # One replica dies mid-journey; nginx must route everything that follows to the other.
    marker = f"/?before-the-kill={uuid.uuid4().hex}"
    expect_ok(shopper.request.get(f"{base}{marker}"), "catalog before the kill")
    killed_address = container_stack.stack.address("monolith-a")
    container_stack.stack.kill("monolith-a")
    wait_until(
        lambda: container_stack.stack.container_state("monolith-a") == "exited",
        timeout=10,
        what="monolith-a's container stopped",
    )
    for _ in range(6):  # enough for both nginx workers to try the dead replica first
        expect_ok(shopper.request.get(f"{base}/"), "catalog after the kill")

    # Staff fulfil the order in the admin, through the surviving replica.
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    staff = staff_context.new_page()
    staff.on("pageerror", lambda error: errors.append(str(error)))
    staff_login(staff, base, container_stack.staff)
    order_number = shopper.get_by_role("heading", name=re.compile(r"^Order TS-")).inner_text()
    order_number = order_number.removeprefix("Order ").strip()
    search = urlencode({"q": order_number})
    expect_ok(staff.goto(f"{base}/admin/orders/order/?{search}"), "order changelist")
    staff.locator("#result_list input.action-select").first.check()
    staff.locator("select[name=action]").select_option("mark_orders_fulfilled")
    staff.get_by_role("button", name="Go").click()
    staff.get_by_text(re.compile(r"Marked fulfilled")).first.wait_for()

    # The carrier sandbox picks the shipment up and sends its signed events.
    status.filter(has_text="Delivered").wait_for(timeout=LIVE_UPDATE_TIMEOUT_MS)
    assert shopper.url == order_url
    assert shopper.evaluate("window.__sameDocument") is True

    # The invoice link appeared on the open page once the processing service made the PDF.
    invoice_link = shopper.locator("a[data-invoice-link]")
    invoice_link.wait_for(timeout=PROCESSING_TIMEOUT_MS)
    assert shopper.evaluate("window.__sameDocument") is True
    invoice_href = invoice_link.get_attribute("href")
    assert invoice_href
    invoice = expect_ok(shopper.request.get(urljoin(shopper.url, invoice_href)), "invoice")
    assert invoice.headers["content-type"].startswith("application/pdf")
    assert invoice.body().startswith(b"%PDF")

    # A product image uploaded in the admin becomes responsive renditions on the product page.
    expect_ok(staff.goto(f"{base}/"), "catalog")
    product_path = staff.locator("a[href^='/products/']").first.get_attribute("href")
    assert product_path, "no product link on the catalog page"
    expect_ok(staff.goto(f"{base}{product_path}"), "product page")
    product_name = staff.get_by_role("heading", level=1).inner_text().strip()
    search = urlencode({"q": product_name})
    expect_ok(staff.goto(f"{base}/admin/catalog/product/?{search}"), "product search")
    change_href = staff.locator("#result_list tbody th a").first.get_attribute("href")
    assert change_href
    match = re.search(r"/(\d+)/change/", change_href)
    assert match, change_href
    picture = tmp_path / "distributed-upload.jpg"
    Image.new("RGB", (1600, 1000), (180, 90, 40)).save(picture, quality=85)
    expect_ok(staff.goto(f"{base}/admin/catalog/productimage/add/"), "image add form")
    staff.locator("#id_product").fill(match.group(1))
    staff.locator("#id_image").set_input_files(picture)
    staff.locator("#id_alt_text").fill(UPLOAD_ALT)
    staff.locator("input[name=_save]").click()
    staff.locator("ul.messagelist li.success").wait_for()

    uploaded = staff.locator(f'img[alt="{UPLOAD_ALT}"][srcset]')

    def srcset_ready() -> bool:
        expect_ok(staff.goto(f"{base}{product_path}"), "product page")
        if uploaded.count() == 0:
            return False
        value = uploaded.first.get_attribute("srcset") or ""
        return all(width in value for width in RENDITION_WIDTHS)

    wait_until(srcset_ready, timeout=PROCESSING_TIMEOUT_MS / 1000, what="renditions in srcset")
    srcset_value = uploaded.first.get_attribute("srcset") or ""
    for candidate in srcset_value.split(","):
        url, width = candidate.strip().rsplit(" ", 1)
        rendition = expect_ok(staff.request.get(urljoin(f"{base}/", url)), width)
        assert rendition.headers["content-type"].startswith("image/"), (url, rendition.headers)
        assert "max-age" in rendition.headers.get("cache-control", ""), rendition.headers

    # Everything after the kill was served, the killed replica stayed down, and nginx logged
    # its failover from it.
    assert container_stack.stack.container_state("monolith-a") == "exited"
    nginx_log = container_stack.stack.logs("nginx")
    after_kill = lines_after(nginx_log, marker)
    # What the browsers asked for comes from outside the stack's network; the processing
    # worker's job-result callbacks come from inside and are retried until accepted (the
    # invoice link above proves they were), so a 502 to one of them is no error a person sees.
    internal = container_stack.stack.addresses()
    served = {
        line: int(code)
        for line in after_kill
        if line.split(" ", 1)[0] not in internal
        for code in re.findall(r'" (\d{3}) \d+ rt=', line)
    }
    assert served, "nginx logged no request from a browser after the kill"
    failed = [line for line, code in served.items() if code >= 500]
    assert failed == [], "\n".join(failed)
    assert any(f"{killed_address}:8000" in line for line in after_kill), "\n".join(after_kill[-40:])
    assert errors == []
    staff_context.close()
    shopper_context.close()


def test_the_processing_admin_serves_its_own_static_files(container_stack: RunningStack) -> None:
    """DEBUG is off here, as in production: WhiteNoise serves what the image build gathered."""
    processing = PROCESSING_URL
    answer = httpx.get(f"{processing}/static/admin/css/base.css", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/css")
    assert "body" in answer.text


def test_nginx_serves_the_headless_storefront_on_its_own_origin(
    container_stack: RunningStack, browser: Browser
) -> None:
    """The decoupled app: its build from nginx's own server block, the API across origins."""
    headless = HEADLESS_URL
    index = httpx.get(f"{headless}/", timeout=10)
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert index.headers["cache-control"] == "no-cache"
    # The app's own policy, naming the API's origin the build was given.
    assert index.headers["content-security-policy"] == content_security_policy(PUBLIC_URL)
    script = re.search(r'src="(/assets/[^"]+\.js)"', index.text)
    assert script, index.text
    bundle = httpx.get(f"{headless}{script[1]}", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert bundle.status_code == 200
    assert bundle.headers["content-type"] == "application/javascript"
    assert bundle.headers["content-encoding"] == "gzip"
    assert "immutable" in bundle.headers["cache-control"]
    # Only the app's own origin is on the API's allow-list.
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = httpx.options(
        f"{PUBLIC_URL}/api/v1/carts",
        headers={**preflight, "Origin": headless},
        timeout=10,
    )
    assert allowed.headers.get("access-control-allow-origin") == headless
    refused = httpx.options(
        f"{PUBLIC_URL}/api/v1/carts",
        headers={**preflight, "Origin": "http://127.0.0.1:9"},
        timeout=10,
    )
    assert "access-control-allow-origin" not in refused.headers

    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    assets = page_assets_watch(page)
    page.goto(f"{headless}/")
    page_assets_assert_loaded(page, assets, htmx=False)
    # The demo catalog, read from the replicas through nginx's main server block.
    page.get_by_test_id("product-list").locator(".product-card").first.wait_for()
    assert page.get_by_test_id("product-list").locator(".product-card").count() > 0
    assert errors == []
    context.close()
