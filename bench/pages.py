"""The pages benchmark: shopper pages against a bare Django view, served the same way.

The monolith runs with its production settings (through `bench/benchsite`) under gunicorn,
on a PostgreSQL database of its own holding the demo catalog. wrk then drives, one after
the other, a bare view that returns "ok" through the same middleware (the baseline), the
catalog list and a product page. The report gives each page's throughput and latency and
their ratio to the baseline, so the figures say what the page costs, not how fast the
machine is.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
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
DESCRIPTION = "catalog list and product page vs a bare Django view, gunicorn on PostgreSQL"

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "bench"
MANAGE_PY = REPO_ROOT / "monolith" / "manage.py"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tessera_bench"
SETTINGS_MODULE = "benchsite.settings"
WSGI_APP = "monolith.wsgi:application"
READY_PATH = "/readyz"
READY_TIMEOUT_S = 60.0
BASELINE = "bare"


class BenchmarkFailure(RuntimeError):
    """The run cannot produce honest figures; the message says why."""


@dataclass(frozen=True)
class Target:
    """One URL measured, with the name and description the report uses."""

    name: str
    description: str
    path: str


@dataclass(frozen=True)
class PagesOptions:
    """Everything that shapes a run of this benchmark."""

    database_url: str
    products: int
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's own flags."""
    group = parser.add_argument_group(NAME)
    group.add_argument("--products", type=int, default=10_000, help="catalog size to seed")
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
    if arguments.products < 1 or arguments.workers < 1:
        raise BenchmarkFailure("--products and --workers must be at least 1.")
    return PagesOptions(
        database_url=arguments.database_url,
        products=arguments.products,
        workers=arguments.workers,
        conn_max_age=arguments.conn_max_age,
        load=loadgen.load_settings_from(arguments),
        output_dir=Path(arguments.output_dir),
    )


def run(arguments: argparse.Namespace) -> None:
    """Prepare the database, serve the site, measure every target, write the reports."""
    options = options_from(arguments)
    started = time.monotonic()
    machine_before = machine.machine_describe()
    wrk = loadgen.wrk_ensure()
    with tempfile.TemporaryDirectory(prefix="tessera-bench-pages-") as scratch:
        workdir = Path(scratch)
        environment = django_environment(options, workdir)
        site_prepare(options, environment)
        served = settings_served(environment)
        slug = postgres.product_slug_pick(options.database_url, position=options.products // 2)
        measurements = serve_and_measure(
            options, environment, workdir=workdir, targets=targets_for(slug), wrk=wrk
        )
    rows = rows_compute(measurements)
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
        report_build(options, rows, facts),
        markdown_render(options, rows, facts),
        options.output_dir,
    )
    summary_print(rows, written)
    progress(f"finished in {facts.elapsed_s:.0f} s")


def serve_and_measure(
    options: PagesOptions,
    environment: dict[str, str],
    *,
    workdir: Path,
    targets: list[Target],
    wrk: str,
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
        return targets_measure(
            port, targets, wrk=wrk, workdir=workdir, load=options.load, log=gunicorn.log_path
        )


def progress(message: str) -> None:
    """One progress line, flushed at once so `make bench` shows it live."""
    print(f"==> {NAME}: {message}", flush=True)


@contextmanager
def phase(label: str) -> Iterator[None]:
    """Announce a phase, then say how long it took."""
    progress(f"{label} ...")
    started = time.monotonic()
    yield
    print(f"    done in {time.monotonic() - started:.1f} s", flush=True)


def django_environment(options: PagesOptions, workdir: Path) -> dict[str, str]:
    """The environment of every Django process in the run: the bench site and its settings."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH_DIR), os.environ.get("PYTHONPATH")])),
        # A fresh key per run: the benchmark never needs to read an old signature.
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": server.HOST,
        "TESSERA_BENCH_DATABASE_URL": options.database_url,
        "TESSERA_BENCH_STATIC_ROOT": str(workdir / "static"),
        "TESSERA_BENCH_MEDIA_ROOT": str(workdir / "media"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if options.conn_max_age is not None:
        environment["DATABASE_CONN_MAX_AGE"] = str(options.conn_max_age)
    return environment


def manage(environment: dict[str, str], *arguments: str) -> str:
    """Run a management command of the bench site; its output, or a failure that shows it."""
    completed = subprocess.run(
        [sys.executable, str(MANAGE_PY), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchmarkFailure(
            f"manage.py {' '.join(arguments)} failed with {completed.returncode}:\n"
            f"{completed.stdout}{completed.stderr}"
        )
    return completed.stdout


def last_line(output: str) -> str:
    """The last non-empty line of a command's output, for a short progress note."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def site_prepare(options: PagesOptions, environment: dict[str, str]) -> None:
    """A fresh database with the schema and the demo catalog, and the collected static files."""
    name = postgres.database_name(options.database_url)
    with phase(f"recreating the PostgreSQL database {name}"):
        postgres.database_recreate(options.database_url)
    with phase("migrating"):
        manage(environment, "migrate", "--noinput")
    with phase(f"seeding {options.products:,} products"):
        seeded = manage(environment, "seed_demo", f"--products={options.products}", "--skip-users")
        print(f"    {last_line(seeded)}")
    with phase("vacuuming and analysing, so the planner has statistics before any load"):
        postgres.database_analyze(options.database_url)
    with phase("collecting static files"):
        print(f"    {last_line(manage(environment, 'collectstatic', '--noinput'))}")


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


def targets_for(product_slug: str) -> list[Target]:
    """The URLs measured, the baseline first."""
    return [
        Target(BASELINE, 'Bare Django view returning "ok" (baseline)', "/bench/ok"),
        Target("catalog", "Catalog list, first page", "/"),
        Target(
            "catalog_page_5_by_price", "Catalog list, page 5 sorted by price", "/?page=5&sort=price"
        ),
        Target("product", "Product page", f"/products/{product_slug}/"),
    ]


def target_check(port: int, target: Target, *, log: Path) -> int:
    """One request before the load: the target must answer 200 itself, not redirect."""
    response = server.http_get(port, target.path)
    if response.status != 200:
        raise BenchmarkFailure(
            f"{target.path} answered {response.status}, not 200; nothing to measure there.\n"
            f"Server log:\n{server.log_tail(log)}"
        )
    if target.name == BASELINE and response.body != b"ok":
        raise BenchmarkFailure(f"{target.path} did not return the bare view's body")
    return len(response.body)


def targets_measure(
    port: int, targets: list[Target], *, wrk: str, workdir: Path, load: LoadSettings, log: Path
) -> list[Measurement]:
    """Check, warm up and measure every target in turn, failing at the first error."""
    script = loadgen.lua_script_write(workdir)
    measurements = []
    for target in targets:
        size = target_check(port, target, log=log)
        url = f"http://{server.HOST}:{port}{target.path}"
        with phase(
            f"{target.name} {target.path}: {load.warmup_s} s warm-up, {load.duration_s} s measured"
        ):
            if load.warmup_s:
                load_run(wrk, script, url, duration_s=load.warmup_s, load=load, log=log)
            result = load_run(wrk, script, url, duration_s=load.duration_s, load=load, log=log)
            print(
                f"    {result.requests_per_second:,.1f} req/s, "
                f"p50 {result.latency_ms['p50']:.2f} ms, p99 {result.latency_ms['p99']:.2f} ms",
                flush=True,
            )
        measurements.append(Measurement(target=target, response_bytes=size, result=result))
    return measurements


def load_run(
    wrk: str, script: Path, url: str, *, duration_s: int, load: LoadSettings, log: Path
) -> LoadResult:
    """One wrk run; a single non-2xx response or socket error fails the benchmark."""
    result = loadgen.wrk_run(wrk=wrk, script=script, url=url, duration_s=duration_s, settings=load)
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
    return {
        "name": row.target.name,
        "description": row.target.description,
        "path": row.target.path,
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
    }


@dataclass(frozen=True)
class RunFacts:
    """What the report says about the run besides the figures."""

    machine: dict[str, object]
    software: dict[str, str]
    served: dict[str, object]
    elapsed_s: float


def report_build(options: PagesOptions, rows: list[Row], facts: RunFacts) -> dict[str, object]:
    """The JSON report: machine, software, parameters, and every target's figures."""
    load = options.load
    return {
        "benchmark": NAME,
        "machine": facts.machine,
        "software": facts.software,
        "parameters": {
            "products": options.products,
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
        },
        "baseline": BASELINE,
        "targets": [row_json(row) for row in rows],
        "elapsed_s": round(facts.elapsed_s, 1),
    }


def table_lines(rows: list[Row]) -> list[str]:
    """The figures as a Markdown table, which also reads well in a terminal."""
    lines = [
        "| Target | Path | Requests/s | p50 (ms) | p99 (ms) "
        "| req/s ÷ bare | p50 ÷ bare | p99 ÷ bare |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        latency = row.result.latency_ms
        lines.append(
            f"| {row.target.description} | `{row.target.path}` "
            f"| {row.result.requests_per_second:,.1f} | {latency['p50']:.2f} "
            f"| {latency['p99']:.2f} | {row.rps_ratio:.3f} | {row.p50_ratio:.2f} "
            f"| {row.p99_ratio:.2f} |"
        )
    return lines


def markdown_render(options: PagesOptions, rows: list[Row], facts: RunFacts) -> str:
    """The readable report: what ran where, the table with the ratios, and the method."""
    load = options.load
    lines = [
        "# Pages benchmark",
        "",
        f"Measured {facts.machine['date']} on {facts.machine['cores']} cores "
        f"({facts.machine['cpu']}; load average {facts.machine['load_average_before']} "
        f"before the run), Python {facts.machine['python']}, "
        f"Django {facts.software['django']}, gunicorn {facts.software['gunicorn']}, "
        f"PostgreSQL {facts.software['postgresql']}, {facts.software['wrk']}. "
        f"Catalog of {options.products:,} products. Written by `make bench`; "
        f"the raw figures and all parameters are in [pages.json](pages.json).",
        "",
        *table_lines(rows),
        "",
        "Ratios are page ÷ bare view: a requests/s ratio of 0.25 means the page serves a "
        "quarter as many requests per second as the bare view on the same server; a p50 ratio "
        "of 4 means its median response takes four times as long.",
        "",
        "## Method",
        "",
        f"`bench/run.py --only pages` drops and recreates the PostgreSQL database "
        f"`{postgres.database_name(options.database_url)}`, migrates it, seeds "
        f"{options.products:,} demo products with `seed_demo`, runs `VACUUM ANALYZE` (so "
        f"autovacuum does not change query plans mid-run) and collects the static files. "
        f"It then serves the monolith's WSGI application with gunicorn ({options.workers} sync "
        f"workers, access log off) on 127.0.0.1 under the production settings; "
        f"`bench/benchsite/settings.py` changes only the database, the allowed host, the "
        f"static and media directories and the HTTPS redirect, and `bench/benchsite/urls.py` "
        f"adds the bare view `/bench/ok`, which passes through the same server and middleware "
        f"but renders no template and runs no query. Each target must first answer one request "
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


def connection_note(conn_max_age: object) -> str:
    """A sentence on how the server held its database connections during the run."""
    if conn_max_age == 0:
        return (
            "`CONN_MAX_AGE` was 0, so every request that queries opens a new PostgreSQL connection."
        )
    return f"`CONN_MAX_AGE` was {conn_max_age}: each worker kept its database connection."


INDEX = """# Benchmarks

Written by `make bench` (`bench/run.py`; `--only NAME` runs one). Every report compares
against a baseline measured in the same run: its ratios say what a part costs, while its
absolute figures describe only the machine it ran on (see the report's machine section).

| Report | What it measures |
|---|---|
| [Pages](pages.md) ([JSON](pages.json)) | Catalog list and product page vs a bare Django \
view, gunicorn on PostgreSQL |
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


def summary_print(rows: list[Row], written: list[Path]) -> None:
    """The final table, and where the reports went."""
    print()
    print("\n".join(table_lines(rows)))
    print()
    for path in written:
        print(
            f"    wrote {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}"
        )
