"""Playwright driving Debian's Chromium: the one way the suites open a real browser.

`chromium()` launches it; `page_assets_watch(page)` before the first navigation and
`page_assets_assert_loaded(page, watch)` after it make a test fail at once, naming the
asset, when the page's own stylesheet, scripts or images did not load. Without that guard a
page with no htmx still renders: its forms fall back to plain posts and a journey only
times out, much later, waiting for a live update that nothing will ever make. A test also
fails when any page reported a Content-Security-Policy violation in its console.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    sync_playwright,
)

CHROMIUM = os.environ.get("TESSERA_CHROMIUM", "/usr/bin/chromium")
REPO_ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
# Chromium's background services try to reach the internet; this machine has none to offer.
QUIET_FLAGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The requests a page makes for itself, as opposed to htmx's and fetch's calls, whose
# 4xx answers (a refused form, say) are part of a journey.
OWN_ASSET_TYPES = {"stylesheet", "script", "image", "font", "media"}


def chromium_missing_reason() -> str | None:
    if shutil.which(CHROMIUM) is None:
        return f"Debian's Chromium is not at {CHROMIUM}: run scripts/ensure_chromium.sh"
    return None


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # Root in a container has no user namespaces for Chromium's sandbox.
            chromium_sandbox=False,
            args=QUIET_FLAGS,
        )
        violations = _csp_violations_record(browser)
        try:
            yield browser
            if violations:
                listed = "\n  ".join(violations)
                pytest.fail(f"Content-Security-Policy violations:\n  {listed}", pytrace=False)
        finally:
            browser.close()


def _csp_violations_record(browser: Browser) -> list[str]:
    """Record what any page of ``browser`` reports as a Content-Security-Policy violation.

    Chromium reports each in the console ("Refused to ... because it violates the following
    Content Security Policy directive"); every context the browser opens is listened to, so a
    journey fails on a violation however late it happens (an htmx swap, a live update).
    """
    violations: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"{message.location.get('url', '?')}: {message.text}")

    new_context, new_page = browser.new_context, browser.new_page

    def context_listened(**options: Any) -> BrowserContext:
        context = new_context(**options)
        context.on("console", console)
        return context

    def page_listened(**options: Any) -> Page:
        page = new_page(**options)
        page.context.on("console", console)
        return page

    browser.new_context = context_listened  # type: ignore[method-assign]
    browser.new_page = page_listened  # type: ignore[method-assign]
    return violations


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"


@dataclass
class PageAssetsWatch:
    """Every asset a page failed to load, as the browser saw it, with its URL."""

    failures: list[str] = field(default_factory=list)

    def request_failed(self, request: Request) -> None:
        if request.resource_type in OWN_ASSET_TYPES:
            self.failures.append(f"{request.url} ({request.failure or 'failed'})")

    def response(self, response: Response) -> None:
        if response.request.resource_type in OWN_ASSET_TYPES and response.status >= 400:
            self.failures.append(f"{response.url} (HTTP {response.status})")

    def console(self, message: ConsoleMessage) -> None:
        # Chromium's own words for a resource it could not get; the URL is in the location.
        if message.type == "error" and "Failed to load resource" in message.text:
            self.failures.append(f"{message.location.get('url', '?')} (console: {message.text})")


def page_assets_watch(page: Page) -> PageAssetsWatch:
    """Start recording the page's failed assets; call before its first navigation."""
    watch = PageAssetsWatch()
    page.on("requestfailed", watch.request_failed)
    page.on("response", watch.response)
    page.on("console", watch.console)
    return watch


def _asset_answer_check(page: Page, url: str, expected_type: str) -> str | None:
    answer = page.request.get(url)
    content_type = answer.headers.get("content-type", "")
    if answer.status != 200 or expected_type not in content_type:
        return f"{url} answered HTTP {answer.status} with content type {content_type!r}"
    return None


def page_assets_assert_loaded(page: Page, watch: PageAssetsWatch, *, htmx: bool = True) -> None:
    """The page's stylesheets and scripts answer 200 with their types; nothing failed.

    Call once the page has loaded and before the test clicks anything. `htmx=False` for a
    page that is not server-rendered (the headless storefront's bundle has no htmx).
    """
    page.wait_for_load_state("load")
    stylesheets: list[str] = page.eval_on_selector_all(
        "link[rel=stylesheet]", "links => links.map(link => link.href)"
    )
    scripts: list[str] = page.eval_on_selector_all(
        "script[src]", "scripts => scripts.map(script => script.src)"
    )
    if not stylesheets:
        pytest.fail(f"{page.url} links no stylesheet", pytrace=False)
    if htmx and not any("htmx" in src for src in scripts):
        pytest.fail(f"{page.url} loads no htmx script: {scripts}", pytrace=False)
    problems = [
        problem
        for url, expected_type in [
            *((url, "text/css") for url in stylesheets),
            *((url, "javascript") for url in scripts),
        ]
        if (problem := _asset_answer_check(page, url, expected_type))
    ]
    problems += watch.failures
    if problems:
        listed = "\n  ".join(problems)
        pytest.fail(f"{page.url}: its own assets did not load:\n  {listed}", pytrace=False)
    if not scripts:
        pytest.fail(f"{page.url} loads no script", pytrace=False)
    if htmx and page.evaluate("typeof window.htmx") != "object":
        pytest.fail(f"{page.url}: htmx did not start", pytrace=False)


def guest_checkout_fill(page: Page, *, email: str, full_name: str, address: str) -> None:
    """The checkout form, filled in as a guest in Amsterdam (a country the demo shop ships to)."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Full name").fill(full_name)
    page.get_by_label("Address", exact=True).fill(address)
    page.get_by_label("Postal code").fill("1011")
    page.get_by_label("City").fill("Amsterdam")
    page.get_by_label("Country").select_option("NL")
