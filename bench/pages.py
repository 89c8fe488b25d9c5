"""The pages benchmark: shopper pages against a bare Django view, served the same way.

The monolith runs with its production settings (through `bench/benchsite`) under gunicorn,
on a PostgreSQL database of its own holding the demo catalog, once per catalog size (10,000
and 100,000 products by default). wrk then drives, one after the other, a bare view that
returns "ok" through the same middleware (the baseline) and every page a shopper sees: the
catalog list (first page, a deep page, each sort, a category), a search and a product page,
anonymously, and as a signed-in shopper with three items in the cart the catalog's first page,
a product page, the cart and checkout. Before that, a cold pass times the first request to
pages nobody asked for yet, so a cache hit is never mistaken for a fast page. The report gives
each page's throughput and latency and their ratio to the baseline, checks them against the
targets of issues #11 (guest pages) and #25 (signed-in pages), saying for each by how much it
is met or missed, and draws a chart.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import loadgen, machine, postgres, server
from bench.loadgen import LoadResult, LoadSettings

NAME = "pages"
DESCRIPTION = "shopper pages vs a bare Django view, gunicorn on PostgreSQL, 10k and 100k products"

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "bench"
DEFAULT_DATABASE_URL = postgres.local_database_url("tessera_bench")
SETTINGS_MODULE = "benchsite.settings"
WSGI_APP = "monolith.wsgi:application"
READY_PATH = "/readyz"
READY_TIMEOUT_S = 60.0
BASELINE = "bare"
DEFAULT_SIZES = (10_000, 100_000)
# Distinct, never-requested URLs timed one by one per target in the cold pass.
COLD_REQUESTS = 20
# A word the demo catalog's names use often enough to fill pages of results.
SEARCH_WORD = "lamp"
CSRF_COOKIE = "csrftoken"
PROFILE_NOTES = BENCH_DIR / "pages_profile.md"
CHART_NAME = "pages.png"
# The ratios at 10,000 products before the work on each page's target, for the chart: guest
# pages before issue #11 (2026-11-23), signed-in pages before issue #25 (2026-12-03).
BEFORE_RATIOS = {
    "catalog": 0.026,
    "catalog_page_5_by_price": 0.023,
    "product": 0.095,
    "shopper_catalog": 0.139,
    "shopper_product": 0.160,
}
# The targets: a requests/s ratio floor per target (Target.floor), and for every target with
# a floor a p99 ratio ceiling.
P99_CEILING = 3.0
SCALE_P50_CEILING = 1.5
SEARCH_P50_CEILING_MS = 50.0


class BenchmarkFailure(RuntimeError):
    """The run cannot produce honest figures; the message says why."""


@dataclass(frozen=True)
class Target:
    """One URL measured, with the name and description the report uses."""

    name: str
    description: str
    path: str
    # The lowest requests/s ratio accepted (issue #11 for guests, #25 signed in); 0: no
    # target (the baseline, and pages reported for information).
    floor: float = 0.0
    signed_in: bool = False
    # Pages of the same kind nobody requested yet, for the cold pass.
    cold_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class PagesOptions:
    """Everything that shapes a run of this benchmark."""

    database_url: str
    sizes: tuple[int, ...]
    workers: int
    conn_max_age: int | None
    load: LoadSettings
    output_dir: Path


@dataclass(frozen=True)
class Measurement:
    """A target, the size of its response, and what wrk measured on it."""

    target: Target
    response_bytes: int
    result: LoadResult
    # Latencies (ms) of the first request to each of the target's cold paths.
    cold_ms: tuple[float, ...] = ()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's own flags."""
    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--products",
        default=",".join(str(size) for size in DEFAULT_SIZES),
        help="catalog sizes to seed and measure, comma-separated (default: %(default)s)",
    )
    group.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    group.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="PostgreSQL database to DROP and recreate for the run (default: %(default)s)",
    )
    group.add_argument(
        "--conn-max-age",
        type=int,
        default=None,
        help="DATABASE_CONN_MAX_AGE for the server (default: what production settings use)",
    )


def options_from(arguments: argparse.Namespace) -> PagesOptions:
    """PagesOptions from the parsed command line."""
    try:
        sizes = tuple(int(size) for size in str(arguments.products).split(",") if size.strip())
    except ValueError as error:
        raise BenchmarkFailure(f"--products: {error}") from error
    if not sizes or min(sizes) < 1 or arguments.workers < 1:
        raise BenchmarkFailure("--products needs sizes of at least 1, --workers at least 1.")
    return PagesOptions(
        database_url=arguments.database_url,
        sizes=sizes,
        workers=arguments.workers,
        conn_max_age=arguments.conn_max_age,
        load=loadgen.load_settings_from(arguments),
        output_dir=Path(arguments.output_dir),
    )


def run(arguments: argparse.Namespace) -> None:
    """For each catalog size: prepare the database, serve the site, measure every target.

    Then write the reports and the chart for all sizes together.
    """
    options = options_from(arguments)
    started = time.monotonic()
    machine_before = machine.machine_describe()
    wrk = loadgen.wrk_ensure()
    runs: list[SizeRun] = []
    served: dict[str, object] = {}
    for size in options.sizes:
        progress(f"catalog of {size:,} products")
        with tempfile.TemporaryDirectory(prefix="tessera-bench-pages-") as scratch:
            workdir = Path(scratch)
            environment = django_environment(
                options.database_url, workdir, conn_max_age=options.conn_max_age
            )
            seed_s = site_prepare(options.database_url, environment, products=size)
            served = settings_served(environment)
            slugs = postgres.product_slugs_pick(
                options.database_url, first=size // 2, count=2 * COLD_REQUESTS + 1
            )
            session = shopper_sign_in(environment)
            measurements = serve_and_measure(
                options,
                environment,
                workdir=workdir,
                targets=targets_for(slugs, products=size),
                wrk=wrk,
                cookie=f"sessionid={session}; {CSRF_COOKIE}={secrets.token_hex(16)}",
            )
        runs.append(SizeRun(products=size, seed_s=seed_s, rows=rows_compute(measurements)))
    facts = RunFacts(
        machine=machine_before,
        software={
            **machine.package_versions("django", "gunicorn", "psycopg", "whitenoise"),
            "postgresql": postgres.server_version(options.database_url),
            "wrk": loadgen.wrk_version(wrk),
        },
        served=served,
        elapsed_s=time.monotonic() - started,
    )
    written = reports_write(
        report_build(options, runs, facts),
        markdown_render(options, runs, facts),
        options.output_dir,
    )
    written.append(chart_write(runs, options.output_dir / CHART_NAME))
    summary_print(runs, written)
    progress(f"finished in {facts.elapsed_s:.0f} s")


@dataclass(frozen=True)
class SizeRun:
    """Everything measured on one catalog size."""

    products: int
    seed_s: float
    rows: list[Row]


def serve_and_measure(
    options: PagesOptions,
    environment: dict[str, str],
    *,
    workdir: Path,
    targets: list[Target],
    wrk: str,
    cookie: str,
) -> list[Measurement]:
    """Start gunicorn, measure every target against it, and stop it whatever happens."""
    gunicorn = server.Gunicorn(
        wsgi_app=WSGI_APP,
        workers=options.workers,
        environment=environment,
        log_path=workdir / "gunicorn.log",
    )
    with ExitStack() as stack:
        stack.callback(progress, "gunicorn stopped")
        with phase(f"starting gunicorn ({options.workers} sync workers), waiting for {READY_PATH}"):
            port = stack.enter_context(
                server.gunicorn_serving(
                    gunicorn, ready_path=READY_PATH, ready_timeout_s=READY_TIMEOUT_S
                )
            )
        cold = cold_pass(port, targets, cookie=cookie, log=gunicorn.log_path)
        return targets_measure(
            port,
            targets,
            wrk=wrk,
            workdir=workdir,
            load=options.load,
            log=gunicorn.log_path,
            cookie=cookie,
            cold=cold,
        )


def progress(message: str, *, benchmark: str = NAME) -> None:
    """One progress line of `benchmark`, flushed at once so `make bench` shows it live."""
    print(f"==> {benchmark}: {message}", flush=True)


@contextmanager
def phase(label: str, *, benchmark: str = NAME) -> Iterator[None]:
    """Announce a phase of `benchmark`, then say how long it took."""
    progress(f"{label} ...", benchmark=benchmark)
    started = time.monotonic()
    yield
    print(f"    done in {time.monotonic() - started:.1f} s", flush=True)


def django_environment(
    database_url: str, workdir: Path, *, conn_max_age: int | None = None
) -> dict[str, str]:
    """The environment of every Django process in the run: the bench site and its settings.

    `conn_max_age` overrides production's DATABASE_CONN_MAX_AGE when given.
    """
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH_DIR), os.environ.get("PYTHONPATH")])),
        # A fresh key per run: the benchmark never needs to read an old signature.
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": server.HOST,
        "TESSERA_BENCH_DATABASE_URL": database_url,
        "TESSERA_BENCH_STATIC_ROOT": str(workdir / "static"),
        "TESSERA_BENCH_MEDIA_ROOT": str(workdir / "media"),
        # The run's own runtime folder: the embedded default cache (files) lives there, so
        # nothing cached for `make run`'s database can answer for this one, nor the reverse.
        "TESSERA_VAR_DIR": str(workdir / "var"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if conn_max_age is not None:
        environment["DATABASE_CONN_MAX_AGE"] = str(conn_max_age)
    return environment


def last_line(output: str) -> str:
    """The last non-empty line of a command's output, for a short progress note."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def site_prepare(
    database_url: str, environment: dict[str, str], *, products: int, benchmark: str = NAME
) -> float:
    """A fresh database with the schema and the demo catalog, and the collected static files.

    Returns how long seeding took, in seconds; `benchmark` names the run in its progress lines.
    """
    name = postgres.database_name(database_url)
    with phase(f"recreating the PostgreSQL database {name}", benchmark=benchmark):
        postgres.database_recreate(database_url)
    with phase("migrating", benchmark=benchmark):
        server.manage(environment, "migrate", "--noinput")
    seed_started = time.monotonic()
    with phase(f"seeding {products:,} products", benchmark=benchmark):
        seeded = server.manage(environment, "seed_demo", f"--products={products}", "--skip-users")
        print(f"    {last_line(seeded)}")
    seed_s = time.monotonic() - seed_started
    with phase(
        "vacuuming and analysing, so the planner has statistics before any load",
        benchmark=benchmark,
    ):
        postgres.database_analyze(database_url)
    with phase("collecting static files", benchmark=benchmark):
        print(f"    {last_line(server.manage(environment, 'collectstatic', '--noinput'))}")
    return seed_s


def shopper_sign_in(environment: dict[str, str]) -> str:
    """The session key of a fresh shopper with three items in the cart (benchsite/shopper.py)."""
    return last_line(
        server.manage(environment, "shell", "-c", "from benchsite.shopper import main; main()")
    )


def settings_served(environment: dict[str, str]) -> dict[str, object]:
    """The settings the server actually runs with, read the way gunicorn will read them."""
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'debug': s.DEBUG, 'conn_max_age': s.DATABASES['default']['CONN_MAX_AGE'], "
        "'database_engine': s.DATABASES['default']['ENGINE'], 'middleware': s.MIDDLEWARE}))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise BenchmarkFailure(f"could not read the bench site's settings:\n{completed.stderr}")
    served: dict[str, object] = json.loads(completed.stdout)
    if served["debug"]:
        raise BenchmarkFailure("DEBUG is on in the bench site; the figures would be meaningless.")
    return served


def listing_pages(query: str, first: int) -> tuple[str, ...]:
    """COLD_REQUESTS listing pages from `first` on, with `query` (the sort or filter) kept."""
    joiner = "&" if query else ""
    return tuple(f"/?{query}{joiner}page={first + n}" for n in range(COLD_REQUESTS))


def targets_for(slugs: list[str], *, products: int) -> list[Target]:
    """The URLs measured, the baseline first, each with its target's floor and cold pages."""
    product, *cold_products = slugs
    guest_cold, shopper_cold = cold_products[:COLD_REQUESTS], cold_products[COLD_REQUESTS:]
    deep = max(2, products // 24 // 2)  # a page halfway through the catalog
    pages = tuple(f"/products/{slug}/" for slug in guest_cold)
    words = (
        "mug",
        "vase",
        "pen",
        "towel",
        "bowl",
        "candle",
        "cushion",
        "planter",
        "notebook",
        "jug",
        "tray",
        "basket",
        "pot",
        "clock",
        "shelf",
        "stool",
        "mat",
        "jar",
        "rug",
        "lantern",
    )
    anonymous = [
        Target(BASELINE, 'Bare Django view returning "ok" (baseline)', "/bench/ok"),
        Target("catalog", "Catalog list, first page", "/", 0.5, cold_paths=listing_pages("", 2)),
        Target(
            "catalog_deep",
            f"Catalog list, deep page ({deep})",
            f"/?page={deep}",
            0.4,
            cold_paths=listing_pages("", deep + 1),
        ),
        Target(
            "catalog_page_5_by_price",
            "Catalog list, page 5 sorted by price",
            "/?page=5&sort=price",
            0.4,
            cold_paths=listing_pages("sort=price", 6),
        ),
        Target(
            "catalog_by_price_desc",
            "Catalog list sorted by price, high to low",
            "/?sort=-price",
            0.4,
            cold_paths=listing_pages("sort=-price", 2),
        ),
        Target(
            "catalog_newest",
            "Catalog list, newest first",
            "/?sort=newest",
            0.4,
            cold_paths=listing_pages("sort=newest", 2),
        ),
        Target(
            "catalog_category",
            "Catalog list, one category",
            "/?category=lighting",
            0.4,
            cold_paths=listing_pages("category=kitchen", 1),
        ),
        Target(
            "search",
            f"Search for “{SEARCH_WORD}” (PostgreSQL full-text)",
            f"/?q={SEARCH_WORD}",
            0.4,
            cold_paths=tuple(f"/?q={word}" for word in words),
        ),
        Target("product", "Product page", f"/products/{product}/", 0.6, cold_paths=pages),
    ]
    signed_in = [
        Target(
            "shopper_catalog",
            "Signed-in shopper, 3 items in the cart: catalog first page",
            "/",
            0.35,
            signed_in=True,
            cold_paths=listing_pages("sort=name", 30),
        ),
        Target(
            "shopper_product",
            "Signed-in shopper, 3 items in the cart: product page",
            f"/products/{product}/",
            0.35,
            signed_in=True,
            cold_paths=tuple(f"/products/{slug}/" for slug in shopper_cold),
        ),
        # Pages of the shopper's own, rendered on every request: reported, no target.
        Target(
            "shopper_cart",
            "Signed-in shopper, 3 items in the cart: cart page",
            "/cart/",
            signed_in=True,
        ),
        Target(
            "shopper_checkout",
            "Signed-in shopper, 3 items in the cart: checkout page",
            "/checkout/",
            signed_in=True,
        ),
    ]
    return anonymous + signed_in


def cold_pass(
    port: int, targets: list[Target], *, cookie: str, log: Path
) -> dict[str, tuple[float, ...]]:
    """The first request to each of every target's cold paths, timed one by one.

    Runs before any load, on a fresh server whose cache holds nothing, so each is a miss.
    """
    cold: dict[str, tuple[float, ...]] = {}
    with phase(f"cold pass: {COLD_REQUESTS} never-requested pages per target, one at a time"):
        for target in targets:
            timings = []
            for path in target.cold_paths:
                started = time.perf_counter()
                response = server.http_get(port, path, headers=target_headers(target, cookie))
                timings.append((time.perf_counter() - started) * 1000)
                if response.status != 200:
                    raise BenchmarkFailure(
                        f"cold {path} answered {response.status}.\n{server.log_tail(log)}"
                    )
            cold[target.name] = tuple(timings)
    return cold


def target_headers(target: Target, cookie: str) -> dict[str, str]:
    return {"Cookie": cookie} if target.signed_in else {}


def target_check(port: int, target: Target, *, log: Path, cookie: str) -> int:
    """One request before the load: the target must answer 200 itself, not redirect."""
    response = server.http_get(port, target.path, headers=target_headers(target, cookie))
    if response.status != 200:
        raise BenchmarkFailure(
            f"{target.path} answered {response.status}, not 200; nothing to measure there.\n"
            f"Server log:\n{server.log_tail(log)}"
        )
    if target.name == BASELINE and response.body != b"ok":
        raise BenchmarkFailure(f"{target.path} did not return the bare view's body")
    if target.signed_in and b"Log out" not in response.body:
        raise BenchmarkFailure(f"{target.path} did not show the signed-in shopper's page")
    return len(response.body)


def targets_measure(
    port: int,
    targets: list[Target],
    *,
    wrk: str,
    workdir: Path,
    load: LoadSettings,
    log: Path,
    cookie: str,
    cold: dict[str, tuple[float, ...]],
) -> list[Measurement]:
    """Check, warm up and measure every target in turn, failing at the first error."""
    script = loadgen.lua_script_write(workdir)
    measurements = []
    for target in targets:
        size = target_check(port, target, log=log, cookie=cookie)
        headers = target_headers(target, cookie)
        url = f"http://{server.HOST}:{port}{target.path}"
        with phase(
            f"{target.name} {target.path}: {load.warmup_s} s warm-up, {load.duration_s} s measured"
        ):
            if load.warmup_s:
                load_run(
                    wrk, script, url, duration_s=load.warmup_s, load=load, log=log, headers=headers
                )
            result = load_run(
                wrk, script, url, duration_s=load.duration_s, load=load, log=log, headers=headers
            )
            print(
                f"    {result.requests_per_second:,.1f} req/s, "
                f"p50 {result.latency_ms['p50']:.2f} ms, p99 {result.latency_ms['p99']:.2f} ms",
                flush=True,
            )
        measurements.append(
            Measurement(
                target=target,
                response_bytes=size,
                result=result,
                cold_ms=cold.get(target.name, ()),
            )
        )
    return measurements


def load_run(
    wrk: str,
    script: Path,
    url: str,
    *,
    duration_s: int,
    load: LoadSettings,
    log: Path,
    headers: dict[str, str],
) -> LoadResult:
    """One wrk run; a single non-2xx response or socket error fails the benchmark."""
    result = loadgen.wrk_run(
        wrk=wrk, script=script, url=url, duration_s=duration_s, settings=load, headers=headers
    )
    if result.failures:
        raise BenchmarkFailure(
            f"{url}: {result.non_2xx} non-2xx responses and socket errors "
            f"{result.socket_errors} in {result.requests} requests.\n"
            f"Server log:\n{server.log_tail(log)}"
        )
    return result


@dataclass(frozen=True)
class Row:
    """A target's figures and their ratios to the baseline, as reported."""

    measurement: Measurement
    rps_ratio: float
    p50_ratio: float
    p99_ratio: float

    @property
    def result(self) -> LoadResult:
        return self.measurement.result

    @property
    def target(self) -> Target:
        return self.measurement.target

    @property
    def cold_p50_ms(self) -> float | None:
        cold = self.measurement.cold_ms
        return statistics.median(cold) if cold else None

    @property
    def has_target(self) -> bool:
        return self.target.floor > 0

    @property
    def shortfall(self) -> str:
        """Empty when the row meets its target (or has none), else what it misses, by how much."""
        if not self.has_target:
            return ""
        missed = []
        if self.rps_ratio < self.target.floor:
            missed.append(
                f"req/s {self.rps_ratio:.3f}× < {self.target.floor}× "
                f"({self.target.floor - self.rps_ratio:.3f} short)"
            )
        if self.p99_ratio > P99_CEILING:
            missed.append(f"p99 {self.p99_ratio:.2f}× > {P99_CEILING:.0f}×")
        return "; ".join(missed)

    @property
    def verdict(self) -> str:
        """What the report's *met* column says: met or missed, and by how much either way."""
        if self.target.name == BASELINE:
            return ""
        if not self.has_target:
            return "no target"
        if self.shortfall:
            return f"**missed**: {self.shortfall}"
        return (
            f"yes: req/s {self.rps_ratio:.3f}× ≥ {self.target.floor}× "
            f"(+{self.rps_ratio - self.target.floor:.3f}), p99 {self.p99_ratio:.2f}× ≤ "
            f"{P99_CEILING:.0f}×"
        )


def rows_compute(measurements: list[Measurement]) -> list[Row]:
    """Every measurement with its ratios (page ÷ bare view) to the baseline's figures."""
    baseline = next(m.result for m in measurements if m.target.name == BASELINE)
    return [
        Row(
            measurement=m,
            rps_ratio=m.result.requests_per_second / baseline.requests_per_second,
            p50_ratio=m.result.latency_ms["p50"] / baseline.latency_ms["p50"],
            p99_ratio=m.result.latency_ms["p99"] / baseline.latency_ms["p99"],
        )
        for m in measurements
    ]


def row_json(row: Row) -> dict[str, object]:
    """One target in the JSON report."""
    result = row.result
    cold = row.measurement.cold_ms
    return {
        "name": row.target.name,
        "description": row.target.description,
        "path": row.target.path,
        "signed_in": row.target.signed_in,
        "response_bytes": row.measurement.response_bytes,
        "requests": result.requests,
        "duration_s": round(result.duration_s, 3),
        "requests_per_second": round(result.requests_per_second, 1),
        "latency_ms": {name: round(value, 3) for name, value in result.latency_ms.items()},
        "non_2xx": result.non_2xx,
        "socket_errors": result.socket_errors,
        "ratio_to_baseline": {
            "requests_per_second": round(row.rps_ratio, 3),
            "p50": round(row.p50_ratio, 3),
            "p99": round(row.p99_ratio, 3),
        },
        "cold_first_request_ms": {
            "paths": list(row.target.cold_paths),
            "timings": [round(value, 3) for value in cold],
            "p50": round(statistics.median(cold), 3) if cold else None,
            "max": round(max(cold), 3) if cold else None,
        },
        "target": {
            "requests_per_second_ratio_at_least": row.target.floor,
            "p99_ratio_at_most": P99_CEILING,
        }
        if row.has_target
        else None,
        "met": (not row.shortfall) if row.has_target else None,
        "shortfall": row.shortfall,
    }


@dataclass(frozen=True)
class RunFacts:
    """What the report says about the run besides the figures."""

    machine: dict[str, object]
    software: dict[str, str]
    served: dict[str, object]
    elapsed_s: float


def scale_checks(runs: list[SizeRun]) -> list[dict[str, object]]:
    """Each page's p50 at the largest catalog against the smallest, and search's p50 there."""
    if len(runs) < 2:
        return []
    small, large = runs[0], runs[-1]
    by_name = {row.target.name: row for row in small.rows}
    checks = []
    for row in large.rows:
        before = by_name.get(row.target.name)
        if before is None or not row.has_target:
            continue
        growth = row.result.latency_ms["p50"] / before.result.latency_ms["p50"]
        checks.append(
            {
                "name": row.target.name,
                "description": row.target.description,
                "p50_small_ms": round(before.result.latency_ms["p50"], 3),
                "p50_large_ms": round(row.result.latency_ms["p50"], 3),
                "growth": round(growth, 3),
                "met": growth <= SCALE_P50_CEILING
                and (
                    row.target.name != "search"
                    or row.result.latency_ms["p50"] <= SEARCH_P50_CEILING_MS
                ),
            }
        )
    return checks


def report_build(options: PagesOptions, runs: list[SizeRun], facts: RunFacts) -> dict[str, object]:
    """The JSON report: machine, software, parameters, and every target's figures per size."""
    load = options.load
    return {
        "benchmark": NAME,
        "machine": facts.machine,
        "software": facts.software,
        "parameters": {
            "products": list(options.sizes),
            "settings": f"{SETTINGS_MODULE}: monolith.settings.production + loopback changes",
            "server": {
                "wsgi": WSGI_APP,
                "gunicorn_workers": options.workers,
                "worker_class": "sync",
                "access_log": False,
                **facts.served,
            },
            "load": {
                "generator": "wrk",
                "threads": load.threads,
                "connections": load.connections,
                "warmup_s": load.warmup_s,
                "duration_s": load.duration_s,
                "timeout_s": load.timeout_s,
            },
            "cold_requests_per_target": COLD_REQUESTS,
        },
        "baseline": BASELINE,
        "before": BEFORE_RATIOS,
        "sizes": [
            {
                "products": run.products,
                "seed_s": round(run.seed_s, 1),
                "targets": [row_json(row) for row in run.rows],
            }
            for run in runs
        ],
        "scale": scale_checks(runs),
        "elapsed_s": round(facts.elapsed_s, 1),
    }


def table_lines(rows: list[Row]) -> list[str]:
    """The figures as a Markdown table, which also reads well in a terminal."""
    lines = [
        "| Target | Path | Requests/s | p50 (ms) | p99 (ms) | cold p50 (ms) "
        "| req/s ÷ bare | p99 ÷ bare | target | met |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in rows:
        latency = row.result.latency_ms
        cold = "" if row.cold_p50_ms is None else f"{row.cold_p50_ms:.2f}"
        floor = f"≥ {row.target.floor}×, p99 ≤ {P99_CEILING:.0f}×" if row.has_target else ""
        lines.append(
            f"| {row.target.description} | `{row.target.path}` "
            f"| {row.result.requests_per_second:,.1f} | {latency['p50']:.2f} "
            f"| {latency['p99']:.2f} | {cold} | {row.rps_ratio:.3f} "
            f"| {row.p99_ratio:.2f} | {floor} | {row.verdict} |"
        )
    return lines


def scale_lines(runs: list[SizeRun]) -> list[str]:
    checks = scale_checks(runs)
    if not checks:
        return []
    small, large = runs[0].products, runs[-1].products
    lines = [
        f"## Scale: {large:,} against {small:,} products",
        "",
        f"Target: each page's p50 at {large:,} products within {SCALE_P50_CEILING}× of its "
        f"p50 at {small:,}, and search's p50 at most {SEARCH_P50_CEILING_MS:.0f} ms.",
        "",
        f"| Target | p50 at {small:,} (ms) | p50 at {large:,} (ms) | growth | met |",
        "|---|--:|--:|--:|---|",
    ]
    for check in checks:
        lines.append(
            f"| {check['description']} | {check['p50_small_ms']:.2f} | {check['p50_large_ms']:.2f} "
            f"| {check['growth']:.2f}× | {'yes' if check['met'] else 'no'} |"
        )
    return [*lines, ""]


def markdown_render(options: PagesOptions, runs: list[SizeRun], facts: RunFacts) -> str:
    """The readable report: what ran where, a table per catalog size, scale, chart, method."""
    load = options.load
    lines = [
        "# Pages benchmark",
        "",
        f"Measured {facts.machine['date']} on {facts.machine['cores']} cores "
        f"({facts.machine['cpu']}; load average {facts.machine['load_average_before']} "
        f"before the run), Python {facts.machine['python']}, "
        f"Django {facts.software['django']}, gunicorn {facts.software['gunicorn']}, "
        f"PostgreSQL {facts.software['postgresql']}, {facts.software['wrk']}. "
        f"Catalogs of {', '.join(f'{size:,}' for size in options.sizes)} products; the run "
        f"took {facts.elapsed_s / 60:.1f} minutes. Written by `make bench`; "
        f"the raw figures and all parameters are in [pages.json](pages.json).",
        "",
        f"![Requests/s of each page ÷ the bare view, before and after, per catalog size]"
        f"({CHART_NAME})",
        "",
    ]
    for run in runs:
        lines += [
            f"## {run.products:,} products",
            "",
            f"Seeded in {run.seed_s:.0f} s.",
            "",
            *table_lines(run.rows),
            "",
        ]
    lines += [
        *scale_lines(runs),
        "Ratios are page ÷ bare view: a requests/s ratio of 0.25 means the page serves a "
        "quarter as many requests per second as the bare view on the same server; a p99 ratio "
        "of 3 means its 99th-percentile response takes three times as long. *Cold p50* is the "
        f"median of the first request to each of {COLD_REQUESTS} pages of the same kind that "
        "nobody had asked for yet (other page numbers of the same listing, other products, "
        "other search words), timed one at a time on the freshly started server before any "
        "load, so every product card and fragment on them was rendered, not read from the "
        "cache. Being one request at a time on an idle server, a cold figure can be lower than "
        "the warm p50 under wrk's concurrent connections: compare it with the bare view's "
        "latency, not with the warm column. *target* is issue #11's for guest pages and issue "
        "#25's for the signed-in catalog and product pages (the cart and checkout are reported "
        "without one); *met* says by how much each is met or missed.",
        "",
    ]
    if PROFILE_NOTES.exists():
        lines += [PROFILE_NOTES.read_text(encoding="utf-8").rstrip(), ""]
    lines += [
        "## Method",
        "",
        f"For each catalog size `bench/run.py --only pages` drops and recreates the PostgreSQL "
        f"database `{postgres.database_name(options.database_url)}`, migrates it, seeds the "
        f"demo products with `seed_demo` (bulk inserts), runs `VACUUM ANALYZE` (so "
        f"autovacuum does not change query plans mid-run), collects the static files and "
        f"signs in a shopper with three items in the cart (`bench/benchsite/shopper.py`), "
        f"whose session cookie wrk sends for the signed-in targets. "
        f"It then serves the monolith's WSGI application with gunicorn ({options.workers} sync "
        f"workers, access log off) on 127.0.0.1 under the production settings; "
        f"`bench/benchsite/settings.py` changes only the database, the allowed host, the "
        f"static and media directories and the HTTPS redirect, and `bench/benchsite/urls.py` "
        f"adds the bare view `/bench/ok`, which passes through the same server and middleware "
        f"but renders no template and runs no query. The cache is production's `CACHE_URL` "
        f"({cache_note()}). After the cold pass, each target must first answer one request "
        f"with 200 itself (no redirect); wrk ({load.threads} threads, {load.connections} "
        f"connections) then warms it up for {load.warmup_s} s and measures it for "
        f"{load.duration_s} s, and a single non-2xx response or socket error fails the run. "
        f"All targets are measured one after another against the same server process, so the "
        f"ratios isolate what each page costs. Sync workers close the connection after every "
        f"response, so each request includes a TCP connect, for the baseline too; "
        f"{connection_note(facts.served['conn_max_age'])} wrk, gunicorn and PostgreSQL "
        f"share the machine's cores, so compare absolute figures only within one machine and "
        f"ratios across machines; latencies are wrk's percentiles, not corrected for "
        f"coordinated omission.",
        "",
    ]
    return "\n".join(lines)


def cache_note() -> str:
    url = os.environ.get("CACHE_URL", "")
    if not url:
        return (
            "unset here, so the embedded default: files in the run's folder, shared by the workers"
        )
    if url.startswith("locmem"):
        return "`locmemcache://` here: each gunicorn worker's own memory"
    return f"`{url.split('://', 1)[0]}://` here, shared by the workers"


def connection_note(conn_max_age: object) -> str:
    """A sentence on how the server held its database connections during the run."""
    if conn_max_age == 0:
        return (
            "`CONN_MAX_AGE` was 0, so every request that queries opens a new PostgreSQL connection."
        )
    return f"`CONN_MAX_AGE` was {conn_max_age}: each worker kept its database connection."


def chart_write(runs: list[SizeRun], path: Path) -> Path:
    """A bar chart of every page's requests/s ratio: before the work on its target (issue #11
    or #25), then each catalog size; a black mark where a page's target is."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    names = [row.target.name for row in runs[0].rows if row.target.name != BASELINE]
    labels = [row.target.description for row in runs[0].rows if row.target.name != BASELINE]
    series: list[tuple[str, list[float]]] = [
        (
            "before (#11: 2026-11-23; #25: 2026-12-03), 10,000",
            [BEFORE_RATIOS.get(name, 0.0) for name in names],
        )
    ]
    for run in runs:
        ratios = {row.target.name: row.rps_ratio for row in run.rows}
        series.append((f"after, {run.products:,} products", [ratios.get(n, 0.0) for n in names]))
    floors = [next(r.target.floor for r in runs[0].rows if r.target.name == n) for n in names]
    figure, axes = plt.subplots(figsize=(11, 0.55 * len(names) + 2))
    height = 0.8 / len(series)
    for index, (label, values) in enumerate(series):
        positions = [n + index * height for n in range(len(names))]
        axes.barh(positions, values, height=height, label=label)
    for n, floor in enumerate(floors):
        if floor:
            axes.plot([floor, floor], [n - 0.1, n + 0.8], color="black", linewidth=1.5)
    axes.set_yticks([n + 0.4 - height / 2 for n in range(len(names))], labels=labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("requests/s ÷ bare Django view (black mark: the page's target, #11 or #25)")
    axes.set_title("Tessera shopper pages against a bare Django view")
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


INDEX = """# Benchmarks

Written by `make bench` (`bench/run.py`; `--only NAME` runs one). Every report compares
against a baseline measured in the same run: its ratios say what a part costs, while its
absolute figures describe only the machine it ran on (see the report's machine section).

| Report | What it measures |
|---|---|
| [Pages](pages.md) ([JSON](pages.json)) | Shopper pages vs a bare Django view, gunicorn \
on PostgreSQL, 10,000 and 100,000 products |
"""


def reports_write(report: dict[str, object], markdown: str, output_dir: Path) -> list[Path]:
    """Write pages.json and pages.md, and the index if there is none yet."""
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path = output_dir / f"{NAME}.json"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    markdown_path = output_dir / f"{NAME}.md"
    markdown_path.write_text(markdown, encoding="utf-8")
    written = [json_path, markdown_path]
    index_path = output_dir / "README.md"
    if not index_path.exists():
        index_path.write_text(INDEX, encoding="utf-8")
        written.append(index_path)
    return written


def summary_print(runs: list[SizeRun], written: list[Path]) -> None:
    """The final tables, and where the reports went."""
    for run in runs:
        print()
        print(f"{run.products:,} products")
        print("\n".join(table_lines(run.rows)))
    print()
    for path in written:
        print(
            f"    wrote {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}"
        )
