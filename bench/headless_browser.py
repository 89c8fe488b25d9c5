"""The headless benchmark's visits in Debian's Chromium (Playwright): the time from navigation
start to the first product card of the list on screen, and the browser's own marks, with a
fresh browser context (cold) and a second visit in it (warm), the storefronts alternating."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize
from playwright.sync_api import Error as PlaywrightError
from tessera_testsupport.browser import chromium

from bench.headless_storefronts import BENCHMARK, LABELS, Storefront
from bench.progress import BenchmarkFailure, phase

# One untimed round first: server-side caches, gunicorn workers and Chromium all warm up.
WARMUP_ROUNDS = 1
# The same class in both apps: the headless app reuses the shared stylesheet's product grid.
CARD_SELECTOR = ".product-grid .product-card"
# In each card, the heading with the product's name: its painting is what is timed. The
# heading, not the link in it: Element Timing reports text under its block-level container.
CARD_NAME_SELECTOR = "h2"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
VISIT_TIMEOUT_MS = 30_000
VISITS = ("cold", "warm")
# Times (ms from navigation start) read in the page: the first card's, then the browser's own.
METRICS = {
    "first_card_ms": "First product card painted",
    "card_in_dom_ms": "First product card in the DOM",
    "first_contentful_paint_ms": "First contentful paint",
    "dom_content_loaded_ms": "DOMContentLoaded",
    "load_ms": "load",
}

# Installed before any script of the page runs. A MutationObserver sees the first card
# arrive in the DOM and marks its product name for the Element Timing API, which then
# reports when that text was painted: the card is on screen, render-blocking stylesheets and
# all. The same API times a server-rendered and a script-inserted card alike.
FIRST_CARD_WATCH = """
(selector, nameSelector) => {
  const mark = { inDom: null, painted: null };
  window.__tesseraFirstCard = mark;
  new PerformanceObserver((entries) => {
    for (const entry of entries.getEntries()) {
      if (entry.identifier === "tessera-first-card" && mark.painted === null) {
        mark.painted = entry.renderTime || entry.loadTime;
      }
    }
  }).observe({ type: "element", buffered: true });
  const observer = new MutationObserver(() => {
    const name = document.querySelector(`${selector} ${nameSelector}`);
    if (mark.inDom === null && name) {
      mark.inDom = performance.now();
      observer.disconnect();
      name.setAttribute("elementtiming", "tessera-first-card");
    }
  });
  observer.observe(document, { childList: true, subtree: true });
}
"""
FIRST_CARD_SCRIPT = (
    f"({FIRST_CARD_WATCH})({json.dumps(CARD_SELECTOR)}, {json.dumps(CARD_NAME_SELECTOR)});"
)
# Both paint entries are reported a little after their frame is shown, so they are awaited.
FIRST_CARD_SEEN = """
() => window.__tesseraFirstCard && window.__tesseraFirstCard.painted !== null
  && performance.getEntriesByName("first-contentful-paint").length > 0
"""
VISIT_READ = """
(selector) => {
  const navigation = performance.getEntriesByType("navigation")[0];
  const products = performance
    .getEntriesByType("resource")
    .find((entry) => new URL(entry.name).pathname === "/api/v1/products");
  return {
    first_card_ms: window.__tesseraFirstCard.painted,
    card_in_dom_ms: window.__tesseraFirstCard.inDom,
    first_contentful_paint_ms: performance.getEntriesByName("first-contentful-paint")[0].startTime,
    dom_content_loaded_ms: navigation.domContentLoadedEventStart,
    load_ms: navigation.loadEventStart,
    cards: document.querySelectorAll(selector).length,
    products_api_ms: products ? products.responseEnd : null,
  };
}
"""


@dataclass(frozen=True)
class Visit:
    """What one browser visit of a storefront's catalog measured, in ms from navigation start."""

    times_ms: dict[str, float]
    cards: int
    # When the product list's API answer had arrived (headless storefront only).
    products_api_ms: float | None


@dataclass
class RunVisits:
    """Every timed visit, by storefront and by cold or warm, and the browser that made them."""

    browser_version: str = ""
    visits: dict[str, dict[str, list[Visit]]] = field(
        default_factory=lambda: {key: {kind: [] for kind in VISITS} for key in LABELS}
    )


class PageErrors:
    """The page's uncaught errors and console errors, to explain a visit that found no card."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))
        page.on("console", self.console)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.messages.append(f"console: {message.text}")


def page_visit(page: Page, url: str) -> Visit:
    """Open `url` in `page`, wait for `load` and for the first product card to be painted."""
    errors = PageErrors(page)
    try:
        page.goto(url, wait_until="load", timeout=VISIT_TIMEOUT_MS)
        page.wait_for_function(FIRST_CARD_SEEN, timeout=VISIT_TIMEOUT_MS)
    except PlaywrightError as error:
        raise BenchmarkFailure(
            f"{url}: no product card ({CARD_SELECTOR} {CARD_NAME_SELECTOR}) was painted: "
            f"{error.message}\n" + "\n".join(errors.messages)
        ) from error
    read = page.evaluate(VISIT_READ, CARD_SELECTOR)
    api_ms = read["products_api_ms"]
    return Visit(
        times_ms={metric: float(read[metric]) for metric in METRICS},
        cards=int(read["cards"]),
        products_api_ms=None if api_ms is None else float(api_ms),
    )


def storefront_visits(browser: Browser, storefront: Storefront) -> tuple[Visit, Visit]:
    """A first visit in a new browser context (empty HTTP cache), then a second in a new tab."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.add_init_script(FIRST_CARD_SCRIPT)
        visits = []
        for _ in VISITS:
            page = context.new_page()
            visits.append(page_visit(page, f"{storefront.origin}/"))
            page.close()
        cold, warm = visits
        return cold, warm
    finally:
        context.close()


def browser_measure(storefronts: tuple[Storefront, ...], *, repeats: int) -> RunVisits:
    """Visit each storefront cold then warm, `repeats` times, alternating which goes first."""
    measured = RunVisits()
    with phase(
        BENCHMARK,
        f"Chromium: {WARMUP_ROUNDS} untimed round, then {repeats} rounds of a cold and a warm "
        "visit to each storefront",
    ):
        try:
            with chromium() as browser:
                measured.browser_version = browser.version
                for round_number in range(WARMUP_ROUNDS + repeats):
                    order = storefronts if round_number % 2 == 0 else storefronts[::-1]
                    round_visits = {sf.key: storefront_visits(browser, sf) for sf in order}
                    if round_number < WARMUP_ROUNDS:
                        continue
                    for key, (cold, warm) in round_visits.items():
                        measured.visits[key]["cold"].append(cold)
                        measured.visits[key]["warm"].append(warm)
                    print(
                        f"    round {round_number - WARMUP_ROUNDS + 1}/{repeats}: "
                        + ", ".join(
                            f"{key} first card {cold.times_ms['first_card_ms']:.0f} ms cold, "
                            f"{warm.times_ms['first_card_ms']:.0f} ms warm"
                            for key, (cold, warm) in round_visits.items()
                        ),
                        flush=True,
                    )
        except PlaywrightError as error:
            raise BenchmarkFailure(f"Chromium failed: {error.message}") from error
    return measured
