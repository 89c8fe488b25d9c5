"""Placements benchmark (issue #15): the same shop run `hybrid` and `monolith`, side by side.

    .venv/bin/python bench/placements.py                        # alone (progress on stderr)
    .venv/bin/python bench/placements.py --placements-jobs 3 --placements-webhooks 200
    .venv/bin/python bench/run.py --only placements             # the same, through make bench

- hybrid: the monolith's web process (gunicorn) and worker, the processing service's API
  (gunicorn) and worker, the webhook functions' server (PROCESSING_PLACEMENT=service,
  WEBHOOK_RECEIVERS_PLACEMENT=function);
- monolith: the monolith's web process (gunicorn) and one worker, both placements `inline`.

Measured for each, on PostgreSQL and RabbitMQ (databases and a vhost of the run's own):

(a) Job round trip: a process with the monolith's settings writes an outbox row the way the
    shop does (`order_invoice_request` for a one-line order, `product_image_renditions_request`
    for a new product image of a 2000×1500 JPEG), inside a transaction, and polls the row
    until it is `succeeded`. Sequential, after warm-ups; p50 and p95.
(b) Webhook acknowledgement: one signed payment event POSTed to the placement's receiver by
    a few threads, a new connection per request; p50 and p99 of the 202, requests/s.
(c) Memory: after (a) and (b), the PSS of every process tree the placement needs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script: make the `bench` package importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NAME = "placements"
DESCRIPTION = (
    "hybrid vs monolith placement: job round trip (invoice, rendition), webhook ack, memory"
)
REPO_ROOT = Path(__file__).resolve().parents[1]
VHOST = "tessera-bench-placements"
PLACEMENTS = {
    "hybrid": {"PROCESSING_PLACEMENT": "service", "WEBHOOK_RECEIVERS_PLACEMENT": "function"},
    "monolith": {"PROCESSING_PLACEMENT": "inline", "WEBHOOK_RECEIVERS_PLACEMENT": "inline"},
}
# Shared by the monolith and the processing service within one run; nothing outside knows them.
SERVICE_TOKEN_KEYS = "bench:bench-only-service-token-key-of-32-bytes"  # noqa: S105
CALLBACK_SECRETS = "whsec_YmVuY2gtb25seS1jYWxsYmFjay1zZWNyZXQ="
CARRIER_SECRETS = "whsec_YmVuY2gtb25seS1jYXJyaWVyLXNlY3JldA=="
SOURCE_IMAGE = "products/bench-placements-source.jpg"
SOURCE_SIZE = (2000, 1500)
WEB_WORKERS = 2
API_WORKERS = 2
WORKER_CONCURRENCY = 2
READY_TIMEOUT_S = 60.0
JOB_TIMEOUT_S = 120.0
JOB_KINDS = {
    "invoice": "invoice PDF of a one-line order",
    "rendition": f"image renditions of a {SOURCE_SIZE[0]}×{SOURCE_SIZE[1]} JPEG "
    "(320, 640, 1280 px; WebP and JPEG)",
}
CHART_NAME = "placements.png"

# Run with the monolith's settings: one product and the pending order the webhooks pay.
SETUP_SCRIPT = r"""
import sys
from decimal import Decimal
import django
django.setup()
from monolith.catalog.models import Category, Product
from monolith.orders.models import Order, Payment

category = Category.objects.create(name="Bench", slug="bench")
Product.objects.create(sku="BENCH-1", name="Bench lamp", slug="bench-lamp", category=category,
                       price=Decimal("10.00"), stock=1000)
order = Order.objects.create(
    number="TS-PWEBHOOK", email="bench@example.com", currency="EUR", subtotal=Decimal("10.00"),
    shipping=Decimal("0.00"), tax=Decimal("0.00"), total=Decimal("10.00"),
    shipping_name="Bench Shopper", shipping_line1="1 Dock", shipping_postal_code="1011",
    shipping_city="Amsterdam", shipping_country="NL",
)
Payment.objects.create(order=order, reference=sys.argv[1], amount=Decimal("10.00"),
                       currency="EUR")
"""

# Run with the monolith's settings: argv kind, count, poll seconds, source location. Each job's
# subject is made first, untimed; the timer starts before the transaction that writes the
# outbox row and stops when a poll sees the row succeeded. Prints the seconds as JSON.
ROUND_TRIP_SCRIPT = r"""
import json, sys, time
from decimal import Decimal
import django
django.setup()
from django.db import transaction
from monolith.catalog.models import Product, ProductImage
from monolith.catalog.renditions import product_image_renditions_request
from monolith.jobs.models import ProcessingJob
from monolith.orders.invoices import order_invoice_request
from monolith.orders.models import Order, OrderLine

kind, source = sys.argv[1], sys.argv[4]
count, poll, timeout = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[5])
product = Product.objects.get(sku="BENCH-1")
first = Order.objects.count()


def subject(number):
    if kind == "rendition":
        return ProductImage.objects.create(product=product, image=source, alt_text="Bench")
    order = Order.objects.create(
        number=f"TS-P{first + number:07d}", email="bench@example.com", currency="EUR",
        subtotal=Decimal("10.00"), shipping=Decimal("0.00"), tax=Decimal("0.00"),
        total=Decimal("10.00"), shipping_name="Bench Shopper", shipping_line1="1 Dock",
        shipping_postal_code="1011", shipping_city="Amsterdam", shipping_country="NL",
    )
    OrderLine.objects.create(order=order, product=product, sku=product.sku, name=product.name,
                             unit_price=Decimal("10.00"), quantity=1, line_total=Decimal("10.00"))
    return order


seconds = []
for number in range(count):
    made = subject(number)
    started = time.perf_counter()
    with transaction.atomic():
        if kind == "rendition":
            job = product_image_renditions_request(image=made)
        else:
            job = order_invoice_request(order=made)
    while True:
        row = ProcessingJob.objects.filter(pk=job.pk).values_list("status", "last_error")
        status, error = row.get()
        if status == "succeeded":
            seconds.append(time.perf_counter() - started)
            break
        if status in {"failed", "dead_lettered", "cancelled"}:
            sys.exit(f"job {job.pk} ({kind}) ended {status}: {error}")
        if time.perf_counter() - started > timeout:
            sys.exit(f"job {job.pk} ({kind}) still {status} after {timeout:.0f} s: {error}")
        time.sleep(poll)
print(json.dumps(seconds))
"""


class BenchmarkFailure(RuntimeError):
    """A service is missing, a process failed, or a check of the run failed; says which."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's own flags."""
    from bench import postgres

    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--placements-jobs", type=int, default=20, help="timed jobs per kind and placement"
    )
    group.add_argument(
        "--placements-job-warmups", type=int, default=5, help="untimed jobs per kind first"
    )
    group.add_argument(
        "--placements-webhooks", type=int, default=2000, help="timed webhook deliveries"
    )
    group.add_argument(
        "--placements-webhook-warmups", type=int, default=200, help="untimed deliveries first"
    )
    group.add_argument(
        "--placements-concurrency", type=int, default=8, help="webhook sender threads"
    )
    group.add_argument(
        "--placements-poll-ms",
        type=float,
        default=5.0,
        help="how often the outbox row is read (the round trip's resolution)",
    )
    group.add_argument(
        "--placements-database-url",
        default=postgres.local_database_url("tessera_bench_placements"),
        help="the monolith's PostgreSQL database (dropped and recreated; the processing "
        "service's is the same name with _processing)",
    )
    group.add_argument(
        "--placements-rabbitmq-url",
        default="amqp://guest:guest@127.0.0.1:5672//",
        help=f"RabbitMQ; the run uses its own vhost {VHOST!r}",
    )


def progress(message: str) -> None:
    print(f"==> {NAME}: {message}", file=sys.stderr, flush=True)


@contextmanager
def phase(label: str) -> Iterator[None]:
    progress(f"{label} ...")
    started = time.monotonic()
    yield
    print(f"    done in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- services


def services_check(database_url: str, rabbitmq_url: str) -> None:
    """Fail with a clear message when PostgreSQL or RabbitMQ is not there."""
    from urllib.parse import urlsplit

    import psycopg

    from bench import postgres

    try:
        psycopg.connect(postgres.maintenance_url(database_url), connect_timeout=5).close()
    except psycopg.OperationalError as error:
        raise BenchmarkFailure(
            f"PostgreSQL is needed at {postgres.maintenance_url(database_url)}: {error}".strip()
        ) from error
    parts = urlsplit(rabbitmq_url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), 5).close()
    except OSError as error:
        where = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5672}"
        raise BenchmarkFailure(f"RabbitMQ is needed at {where}: {error}") from error
    if shutil.which("rabbitmqctl") is None:
        raise BenchmarkFailure(f"rabbitmqctl is needed to create the vhost {VHOST!r}")


def processing_database_url(database_url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path=f"{parts.path}_processing"))


@dataclass(frozen=True)
class Setup:
    """What both placements share: the run's folder, broker, databases and options."""

    run: Any  # bench.functions.Run: its process helpers log into run.workdir
    processing_database_url: str
    # Known before the monolith starts: its relay submits there.
    processing_port: int
    arguments: argparse.Namespace


def monolith_environment(setup: Setup, placement: str) -> dict[str, str]:
    from bench import pages
    from bench.functions import PAYMENT_SECRET

    # bench/ itself must not be on the path, as pages.py puts it for `benchsite`: its
    # processing.py would shadow the processing service's package, which inline jobs import.
    site_path = setup.run.workdir / "site-path"
    if not site_path.exists():
        site_path.mkdir()
        (site_path / "benchsite").symlink_to(REPO_ROOT / "bench" / "benchsite")
    return {
        **pages.django_environment(setup.run.database_url, setup.run.workdir),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(site_path), os.environ.get("PYTHONPATH")])),
        **PLACEMENTS[placement],
        "CELERY_BROKER_URL": setup.run.broker_url,
        "SERVICE_TOKEN_KEYS": SERVICE_TOKEN_KEYS,
        "JOB_RESULT_CALLBACK_SECRETS": CALLBACK_SECRETS,
        "PROCESSING_API_URL": f"http://127.0.0.1:{setup.processing_port}",
        "PAYMENT_WEBHOOK_SECRETS": PAYMENT_SECRET,
        "CARRIER_WEBHOOK_SECRETS": CARRIER_SECRETS,
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def processing_environment(setup: Setup, monolith_port: int) -> dict[str, str]:
    import secrets

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "processing.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SERVICE_TOKEN_KEYS": SERVICE_TOKEN_KEYS,
        "JOB_RESULT_CALLBACK_SECRETS": CALLBACK_SECRETS,
        "PROCESSING_DATABASE_URL": setup.processing_database_url,
        # The monolith's media folder: processing reads the sources the monolith wrote there.
        "PROCESSING_MEDIA_ROOT": str(setup.run.workdir / "media"),
        "TESSERA_VAR_DIR": str(setup.run.workdir / "processing-var"),
        "CELERY_BROKER_URL": setup.run.broker_url,
        "MONOLITH_CALLBACK_URL": f"http://127.0.0.1:{monolith_port}",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def source_image_write(media: Path) -> None:
    """A photograph-like JPEG: noise over a gradient, so it compresses like a real one."""
    from PIL import Image

    path = media / SOURCE_IMAGE
    path.parent.mkdir(parents=True, exist_ok=True)
    gradient = Image.linear_gradient("L").resize(SOURCE_SIZE)
    noise = Image.effect_noise(SOURCE_SIZE, 60)
    image = Image.merge("RGB", (gradient, noise, gradient.rotate(180)))
    image.save(path, "JPEG", quality=90)


def databases_prepare(setup: Setup, environment: dict[str, str], placement: str) -> None:
    from bench import postgres, server
    from bench.functions import queues_purge

    with phase(f"{placement}: recreating and migrating the databases"):
        postgres.database_recreate(setup.run.database_url)
        server.manage(environment, "migrate", "--noinput")
        completed = subprocess.run(
            [sys.executable, "-c", SETUP_SCRIPT, WEBHOOK_PAYMENT_REFERENCE],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise BenchmarkFailure(
                f"seeding the bench's product and order failed:\n{completed.stderr}"
            )
        if PLACEMENTS[placement]["PROCESSING_PLACEMENT"] == "service":
            from scripts import components

            postgres.database_recreate(setup.processing_database_url)
            subprocess.run(
                components.manage("processing", "migrate", "--noinput", "-v", "0"),
                env=processing_environment(setup, 0),
                check=True,
                capture_output=True,
            )
        queues_purge(setup.run.broker_url)


# The reference bench/functions.py's signed event pays: the first delivery pays the order,
# the others are recorded as duplicates, so the worker's share stays small in both placements.
WEBHOOK_PAYMENT_REFERENCE = "pay_bench_ingestion"


# --------------------------------------------------------------------------- processes


@dataclass
class Running:
    """The placement's processes by component, and where its receivers listen."""

    processes: dict[str, subprocess.Popen[bytes]]
    monolith_environment: dict[str, str]
    receiver_url: str


def http_ready(name: str, port: int, process: subprocess.Popen[bytes], setup: Setup) -> None:
    from bench.functions import http_status, wait_for

    wait_for(
        lambda: http_status(port, "/readyz") == 200,
        timeout_s=READY_TIMEOUT_S,
        what=f"{name} ready",
        process=process,
        log=setup.run.workdir / f"{name}.log",
    )


def placement_start(setup: Setup, placement: str, stack: ExitStack) -> Running:
    """Start every process the placement needs; each is stopped when `stack` closes."""
    from bench import server
    from bench.functions import functions_environment, process_running
    from scripts import components

    monolith_port = server.free_port()
    environment = monolith_environment(setup, placement)
    databases_prepare(setup, environment, placement)
    processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        process = stack.enter_context(process_running(name, argv, env, setup.run))
        processes[name] = process
        return process

    with phase(f"{placement}: starting its processes"):
        web = start(
            "monolith web",
            components.gunicorn_direct(
                "monolith.wsgi:application", monolith_port, workers=WEB_WORKERS, log_level="warning"
            ),
            environment,
        )
        start(
            "monolith worker",
            components.celery_worker(
                "monolith",
                *("--loglevel=WARNING", f"--concurrency={WORKER_CONCURRENCY}"),
                # One vhost for both workers: distinct names, or their control queues clash.
                "--hostname=monolith-worker@%h",
                *("--without-gossip", "--without-mingle"),
            ),
            environment,
        )
        receiver_url = f"http://127.0.0.1:{monolith_port}/webhooks/payments"
        if PLACEMENTS[placement]["PROCESSING_PLACEMENT"] == "service":
            from tessera_contract.messaging import PROCESSING_QUEUES

            processing = processing_environment(setup, monolith_port)
            port = setup.processing_port
            api = start(
                "processing api",
                components.gunicorn_direct(
                    "processing.wsgi", port, workers=API_WORKERS, log_level="warning"
                ),
                processing,
            )
            start(
                "processing worker",
                components.celery_worker(
                    "processing",
                    # Every job queue and the results' (the callbacks), as under `make run`.
                    *("-Q", ",".join(PROCESSING_QUEUES)),
                    *("--loglevel=WARNING", f"--concurrency={WORKER_CONCURRENCY}"),
                    *("--without-gossip", "--without-mingle"),
                    "--hostname=processing-worker@%h",
                ),
                processing,
            )
            http_ready("processing api", port, api, setup)
        if PLACEMENTS[placement]["WEBHOOK_RECEIVERS_PLACEMENT"] == "function":
            port = server.free_port()
            functions = start(
                "webhook functions",
                components.functions_serve(),
                functions_environment(
                    setup.run, bind=f"127.0.0.1:{port}", arguments=setup.arguments
                ),
            )
            http_ready("webhook functions", port, functions, setup)
            receiver_url = f"http://127.0.0.1:{port}/webhooks/payments"
        http_ready("monolith web", monolith_port, web, setup)
    return Running(processes=processes, monolith_environment=environment, receiver_url=receiver_url)


# --------------------------------------------------------------------------- (a) round trip


def round_trips(setup: Setup, running: Running, kind: str, count: int) -> list[float]:
    """`count` jobs of `kind`, one after the other; each one's seconds from the transaction's
    start to the poll that sees its row succeeded."""
    for name, process in running.processes.items():
        if process.poll() is not None:
            raise BenchmarkFailure(f"{name} exited with {process.returncode}")
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            ROUND_TRIP_SCRIPT,
            kind,
            str(count),
            str(setup.arguments.placements_poll_ms / 1000),
            SOURCE_IMAGE,
            str(JOB_TIMEOUT_S),
        ],
        env=running.monolith_environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        from bench import server

        logs = "\n".join(
            f"--- {name}.log\n{server.log_tail(setup.run.workdir / f'{name}.log', 15)}"
            for name in running.processes
        )
        raise BenchmarkFailure(f"{kind} round trips failed:\n{completed.stderr[-3000:]}\n{logs}")
    seconds: list[float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return seconds


def jobs_measure(setup: Setup, running: Running, placement: str) -> dict[str, Any]:
    from bench.functions import percentile

    arguments = setup.arguments
    measured: dict[str, Any] = {}
    for kind, description in JOB_KINDS.items():
        with phase(f"{placement}: {arguments.placements_jobs} {description} round trips"):
            # The warm-ups run in the same process: its first job also opens the connections.
            warmups = arguments.placements_job_warmups
            seconds = round_trips(setup, running, kind, warmups + arguments.placements_jobs)
            seconds = seconds[warmups:]
        milliseconds = [value * 1000 for value in seconds]
        measured[kind] = {
            "jobs": len(milliseconds),
            "p50_ms": round(percentile(milliseconds, 0.5), 1),
            "p95_ms": round(percentile(milliseconds, 0.95), 1),
            "min_ms": round(min(milliseconds), 1),
            "max_ms": round(max(milliseconds), 1),
        }
        print(
            f"    p50 {measured[kind]['p50_ms']} ms, p95 {measured[kind]['p95_ms']} ms",
            file=sys.stderr,
            flush=True,
        )
    return measured


# --------------------------------------------------------------------------- (b) webhooks


def deliveries_send(
    url: str, count: int, threads: int
) -> tuple[list[float], dict[int, int], float]:
    """POST the signed event `count` times from `threads` threads, a new connection each time.

    Returns each 202's seconds, the count of every other answer (status 0: a socket error),
    and the wall time of the whole run.
    """
    import http.client
    from urllib.parse import urlsplit

    from bench.functions import signed_payment_request

    body, headers = signed_payment_request()
    parts = urlsplit(url)
    latencies: list[float] = []
    others: dict[int, int] = {}
    remaining = iter(range(count))
    lock = threading.Lock()

    def sender() -> None:
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection(parts.netloc, timeout=30)
                connection.request("POST", parts.path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                connection.close()
            except OSError:
                status = 0
            elapsed = time.perf_counter() - started
            with lock:
                if status == 202:
                    latencies.append(elapsed)
                else:
                    others[status] = others.get(status, 0) + 1

    started = time.perf_counter()
    workers = [threading.Thread(target=sender) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies, others, time.perf_counter() - started


def webhooks_measure(setup: Setup, running: Running, placement: str) -> dict[str, Any]:
    from bench.functions import percentile

    arguments = setup.arguments
    label = (
        f"{placement}: {arguments.placements_webhooks:,} signed payment webhooks to "
        f"{running.receiver_url} ({arguments.placements_concurrency} threads)"
    )
    with phase(label):
        if arguments.placements_webhook_warmups:
            _, others, _ = deliveries_send(
                running.receiver_url,
                arguments.placements_webhook_warmups,
                arguments.placements_concurrency,
            )
            if others:
                raise BenchmarkFailure(f"{placement}: warm-up answers other than 202: {others}")
        latencies, others, wall = deliveries_send(
            running.receiver_url, arguments.placements_webhooks, arguments.placements_concurrency
        )
    milliseconds = [value * 1000 for value in latencies] or [0.0]
    measured = {
        "requests": arguments.placements_webhooks,
        "accepted_202": len(latencies),
        "other_answers": {str(status): number for status, number in sorted(others.items())},
        "requests_per_second": round(arguments.placements_webhooks / wall, 1),
        "p50_ms": round(percentile(milliseconds, 0.5), 2),
        "p99_ms": round(percentile(milliseconds, 0.99), 2),
    }
    print(
        f"    {measured['requests_per_second']} requests/s, p50 {measured['p50_ms']} ms, "
        f"p99 {measured['p99_ms']} ms, non-202 {sum(others.values())}",
        file=sys.stderr,
        flush=True,
    )
    if others:
        raise BenchmarkFailure(f"{placement}: answers other than 202: {measured['other_answers']}")
    return measured


# --------------------------------------------------------------------------- (c) memory


def process_tree(root: int) -> list[int]:
    """`root` and every process descended from it (gunicorn's workers, Celery's pool)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def process_memory_kib(pid: int) -> tuple[int, str]:
    """The process's PSS in KiB from smaps_rollup, or its RSS where that is unreadable."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]), "pss"
    except OSError:
        pass
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]), "rss"
    except OSError:
        pass
    return 0, "gone"


def memory_measure(running: Running) -> dict[str, Any]:
    components: dict[str, Any] = {}
    kinds: set[str] = set()
    for name, process in running.processes.items():
        tree = process_tree(process.pid)
        measured = [process_memory_kib(pid) for pid in tree]
        kinds.update(kind for _, kind in measured if kind != "gone")
        components[name] = {
            "processes": len(tree),
            "mib": round(sum(kib for kib, _ in measured) / 1024, 1),
        }
    total = round(sum(component["mib"] for component in components.values()), 1)
    return {"components": components, "total_mib": total, "measure": "/".join(sorted(kinds))}


# --------------------------------------------------------------------------- the run


def placement_measure(setup: Setup, placement: str) -> dict[str, Any]:
    with ExitStack() as stack:
        stack.callback(progress, f"{placement}: processes stopped")
        running = placement_start(setup, placement, stack)
        jobs = jobs_measure(setup, running, placement)
        webhooks = webhooks_measure(setup, running, placement)
        memory = memory_measure(running)
        print(
            f"    memory {memory['total_mib']} MiB ({memory['measure']}): "
            + ", ".join(f"{name} {c['mib']}" for name, c in memory["components"].items()),
            file=sys.stderr,
            flush=True,
        )
    return {
        "settings": PLACEMENTS[placement],
        "processes": list(memory["components"]),
        "jobs": jobs,
        "webhooks": webhooks,
        "memory": memory,
    }


def ratios(results: dict[str, Any]) -> dict[str, float]:
    hybrid, monolith = results["hybrid"], results["monolith"]

    def ratio(a: float, b: float) -> float:
        return round(a / b, 2) if b else 0.0

    figures = {
        f"{kind}_{p}": ratio(monolith["jobs"][kind][f"{p}_ms"], hybrid["jobs"][kind][f"{p}_ms"])
        for kind in JOB_KINDS
        for p in ("p50", "p95")
    }
    for key in ("p50_ms", "p99_ms", "requests_per_second"):
        figures[f"webhook_{key}"] = ratio(monolith["webhooks"][key], hybrid["webhooks"][key])
    figures["memory_total"] = ratio(monolith["memory"]["total_mib"], hybrid["memory"]["total_mib"])
    return figures


def run(arguments: argparse.Namespace) -> None:
    """Measure both placements and write docs/benchmarks/placements.{json,md,png}."""
    from tessera_testsupport import rabbitmq_vhost_url

    from bench import machine, postgres, server
    from bench.functions import Run

    if arguments.placements_jobs < 1 or arguments.placements_webhooks < 1:
        raise BenchmarkFailure("--placements-jobs and --placements-webhooks need at least 1")
    services_check(arguments.placements_database_url, arguments.placements_rabbitmq_url)
    described = machine.machine_describe()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tessera-bench-placements-") as folder:
        workdir = Path(folder)
        source_image_write(workdir / "media")
        setup = Setup(
            run=Run(
                workdir=workdir,
                broker_url=rabbitmq_vhost_url(arguments.placements_rabbitmq_url, VHOST),
                database_url=arguments.placements_database_url,
                carrier_secret=CARRIER_SECRETS,
                django_environment={},
            ),
            processing_database_url=processing_database_url(arguments.placements_database_url),
            processing_port=server.free_port(),
            arguments=arguments,
        )
        try:
            results = {placement: placement_measure(setup, placement) for placement in PLACEMENTS}
        except BaseException:
            for log in sorted(workdir.glob("*.log")):
                text = log.read_text(errors="replace")[-1500:]
                print(f"--- {log.name} (end)\n{text}", file=sys.stderr)
            raise
        software = {
            **machine.package_versions("django", "gunicorn", "celery", "kombu", "pyvips", "fpdf2"),
            "postgresql": postgres.server_version(arguments.placements_database_url),
        }
    report = {
        "benchmark": NAME,
        "machine": described,
        "software": software,
        "elapsed_s": round(time.monotonic() - started),
        "options": {
            "jobs": arguments.placements_jobs,
            "job_warmups": arguments.placements_job_warmups,
            "webhooks": arguments.placements_webhooks,
            "webhook_warmups": arguments.placements_webhook_warmups,
            "concurrency": arguments.placements_concurrency,
            "poll_ms": arguments.placements_poll_ms,
            "web_workers": WEB_WORKERS,
            "api_workers": API_WORKERS,
            "worker_concurrency": WORKER_CONCURRENCY,
            "functions_workers": arguments.gunicorn_workers,
            "functions_threads": arguments.gunicorn_threads,
        },
        "placements": results,
        "ratios_monolith_to_hybrid": ratios(results),
    }
    output_dir = Path(arguments.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    written = [output_dir / f"{NAME}.json", output_dir / f"{NAME}.md"]
    written[0].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    written[1].write_text(markdown_render(report))
    written.append(chart_write(report, output_dir / CHART_NAME))
    if index := index_update(output_dir):
        written.append(index)
    print(json.dumps(report["ratios_monolith_to_hybrid"], indent=2), flush=True)
    for path in written:
        progress(f"wrote {path}")


# --------------------------------------------------------------------------- the report


def markdown_render(report: dict[str, Any]) -> str:
    machine_, options = report["machine"], report["options"]
    results, ratio = report["placements"], report["ratios_monolith_to_hybrid"]
    hybrid, monolith = results["hybrid"], results["monolith"]
    software = ", ".join(f"{name} {version}" for name, version in report["software"].items())
    full = options["jobs"] >= 20 and options["webhooks"] >= 2000
    lines = [
        "# Placements benchmark (issue #15)",
        "",
        f"Measured {machine_['date']} on {machine_['cores']} cores ({machine_['cpu']}; "
        f"{machine_['memory_gib']} GiB; load average {machine_['load_average_before']} before "
        f"the run), Python {machine_['python']}, {software}; commit "
        f"{str(machine_['git']['commit'])[:10]}"
        f"{' (work tree modified)' if machine_['git']['dirty'] else ''}. Written by "
        "`bench/run.py --only placements` (alone: `python bench/placements.py`) in "
        f"{report['elapsed_s']} s; raw figures in [placements.json](placements.json).",
        "",
    ]
    if not full:
        lines += [
            f"**A small development run** ({options['jobs']} jobs per kind, "
            f"{options['webhooks']:,} webhooks): the figures show the shape, not the "
            "full-size measure (20 jobs, 2,000 webhooks), which `make bench` takes.",
            "",
        ]
    lines += [
        "![Job round trip, webhook acknowledgement and memory per placement](placements.png)",
        "",
        "| Placement | PROCESSING_PLACEMENT | WEBHOOK_RECEIVERS_PLACEMENT | Processes started |",
        "|---|---|---|---|",
    ]
    for name, result in results.items():
        settings = result["settings"]
        lines.append(
            f"| {name} | `{settings['PROCESSING_PLACEMENT']}` | "
            f"`{settings['WEBHOOK_RECEIVERS_PLACEMENT']}` | {', '.join(result['processes'])} |"
        )
    lines += [
        "",
        f"## Job round trip (ms; poll every {options['poll_ms']:g} ms, the resolution)",
        "",
        "| Job | hybrid p50 | hybrid p95 | monolith p50 | monolith p95 | monolith ÷ hybrid "
        "p50 / p95 |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for kind, description in JOB_KINDS.items():
        h, m = hybrid["jobs"][kind], monolith["jobs"][kind]
        lines.append(
            f"| {description} | {h['p50_ms']} | {h['p95_ms']} | {m['p50_ms']} | {m['p95_ms']} | "
            f"{ratio[f'{kind}_p50']} / {ratio[f'{kind}_p95']} |"
        )
    hw, mw = hybrid["webhooks"], monolith["webhooks"]
    lines += [
        "",
        f"## Webhook acknowledgement ({options['webhooks']:,} signed payment webhooks, "
        f"{options['concurrency']} threads)",
        "",
        "| Receiver | 202 p50 (ms) | 202 p99 (ms) | requests/s | non-202 |",
        "|---|--:|--:|--:|--:|",
        f"| hybrid: functions server ({options['functions_workers']} gthread workers × "
        f"{options['functions_threads']} threads) | {hw['p50_ms']} | {hw['p99_ms']} | "
        f"{hw['requests_per_second']} | {sum(hw['other_answers'].values())} |",
        f"| monolith: `/webhooks/payments` in the monolith's gunicorn ({options['web_workers']} "
        f"sync workers) | {mw['p50_ms']} | {mw['p99_ms']} | {mw['requests_per_second']} | "
        f"{sum(mw['other_answers'].values())} |",
        f"| **monolith ÷ hybrid** | {ratio['webhook_p50_ms']} | {ratio['webhook_p99_ms']} | "
        f"{ratio['webhook_requests_per_second']} | |",
        "",
        "## Memory after the measures (MiB, "
        f"{hybrid['memory']['measure'].upper()} summed over each process tree)",
        "",
        "| Component | hybrid | monolith |",
        "|---|--:|--:|",
    ]
    names = list(
        dict.fromkeys([*hybrid["memory"]["components"], *monolith["memory"]["components"]])
    )
    for name in names:
        cells = []
        for result in (hybrid, monolith):
            component = result["memory"]["components"].get(name)
            cells.append(
                f"{component['mib']} ({component['processes']} proc.)" if component else "—"
            )
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    lines += [
        f"| **total** | **{hybrid['memory']['total_mib']}** | "
        f"**{monolith['memory']['total_mib']}** |",
        f"| **monolith ÷ hybrid** | | **{ratio['memory_total']}** |",
        "",
        "## How it is measured",
        "",
        "Each placement runs on its own freshly migrated PostgreSQL database "
        "(`tessera_bench_placements_<run>`; the processing service's the same with "
        f"`_processing`) and RabbitMQ vhost `{VHOST}_<run>` (<run>: TESSERA_RUN_ID, else the "
        "process id; both removed at the end), purged first; hybrid first, then monolith, "
        "each stopped before the next starts. Processes are started with "
        "`scripts/components.py`'s command lines: the monolith under gunicorn "
        f"({options['web_workers']} sync workers, production settings through "
        "`bench/benchsite`), Celery workers with "
        f"{options['worker_concurrency']} pool processes, the processing API under gunicorn "
        f"({options['api_workers']} workers) and the functions' own server. The monolith and "
        "the processing service share one media folder, as under `make run`.",
        "",
        "Job round trip: a separate process with the monolith's settings makes the job's "
        "subject untimed (a one-line order, or a new product image pointing at the stored "
        f"{SOURCE_SIZE[0]}×{SOURCE_SIZE[1]} JPEG), then starts the clock, calls the shop's own "
        "`order_invoice_request` or `product_image_renditions_request` in a transaction (the "
        "outbox row, and the submission task queued after commit) and reads the row every "
        f"{options['poll_ms']:g} ms until it is `succeeded`. Jobs run one after the other, "
        f"each kind's in one process, whose first {options['job_warmups']} are untimed (they "
        "also open its database and broker connections). In hybrid the monolith worker's "
        "relay submits the row to the processing API, processing's worker runs it and posts "
        "the signed result to the monolith's `/internal/v1/job-results`, which marks the row; "
        "inline, the monolith worker runs the same kind code in the submission task and "
        "records the result itself. The invoice PDF is the smallest job the shop asks for "
        "(a sales report reads the orders first).",
        "",
        f"Webhook acknowledgement: {options['concurrency']} threads of the bench process POST "
        "one Stripe-signed `payment_intent.succeeded` event (bench/functions.py's) to the "
        "receiver, each request on a new connection, "
        f"{options['webhook_warmups']} untimed first; the time is until the 202 is read. "
        "The receiver verifies, validates and publishes the envelope to RabbitMQ with a "
        "confirm before answering; the monolith worker consumes meanwhile (the first delivery "
        "pays the order, the rest are duplicates). The monolith's sync workers serve one "
        "request each at a time, the functions' gthread workers eight.",
        "",
        "Memory: after both measures, with every process still running, the proportional set "
        "size (`Pss` of `/proc/<pid>/smaps_rollup`; RSS where it is unreadable) of every "
        "process in each component's tree, so shared pages are counted once overall. The "
        "bench process, PostgreSQL and RabbitMQ are not counted.",
        "",
        "Everything shares the machine's cores, the sender and the poller included: compare "
        "absolute figures within one machine, ratios across machines.",
        "",
    ]
    return "\n".join(lines)


def chart_write(report: dict[str, Any], path: Path) -> Path:
    """Three panels, hybrid and monolith side by side: round trips, acknowledgement, memory."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    results = report["placements"]
    figure, (jobs, webhooks, memory) = plt.subplots(1, 3, figsize=(14, 4.5))

    def grouped(axes: Any, labels: list[str], values: dict[str, list[float]], unit: str) -> None:
        width = 0.8 / len(values)
        for index, (placement, figures) in enumerate(values.items()):
            positions = [n + index * width for n in range(len(labels))]
            bars = axes.bar(positions, figures, width=width, label=placement)
            axes.bar_label(bars, fmt="%.0f", fontsize=7)
        axes.set_xticks(
            [n + 0.4 - width / 2 for n in range(len(labels))], labels=labels, fontsize=8
        )
        axes.set_ylabel(unit)
        axes.legend(fontsize=8)

    labels = [f"{kind} {p}" for kind in JOB_KINDS for p in ("p50", "p95")]
    grouped(
        jobs,
        labels,
        {
            name: [r["jobs"][kind][f"{p}_ms"] for kind in JOB_KINDS for p in ("p50", "p95")]
            for name, r in results.items()
        },
        "ms",
    )
    jobs.set_title("Job round trip (outbox row → succeeded)", fontsize=10)
    grouped(
        webhooks,
        ["202 p50", "202 p99"],
        {name: [r["webhooks"]["p50_ms"], r["webhooks"]["p99_ms"]] for name, r in results.items()},
        "ms",
    )
    webhooks.set_title("Webhook acknowledgement", fontsize=10)
    names = list(dict.fromkeys(n for r in results.values() for n in r["memory"]["components"]))
    bottoms = [0.0] * len(results)
    for name in names:
        values = [r["memory"]["components"].get(name, {}).get("mib", 0.0) for r in results.values()]
        memory.bar(list(results), values, bottom=bottoms, label=name, width=0.5)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    for index, total in enumerate(bottoms):
        memory.text(index, total, f"{total:.0f}", ha="center", va="bottom", fontsize=8)
    memory.set_ylabel("MiB (PSS)")
    memory.set_title("Memory of the processes each needs", fontsize=10)
    memory.legend(fontsize=7)
    figure.suptitle("Tessera placements: hybrid vs monolith", fontsize=11)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def index_update(output_dir: Path) -> Path | None:
    from bench.index import index_row_add

    row = (
        "| [Placements](placements.md) ([JSON](placements.json), [chart](placements.png)) | "
        "The shop run hybrid (processing service, webhook functions) and monolith (both "
        "inline): job round trip (invoice PDF, image renditions), webhook acknowledgement "
        "p50/p99, memory of the processes each needs |"
    )
    return index_row_add(output_dir, page="placements.md", row=row)


if __name__ == "__main__":
    from bench import run as bench_run

    sys.exit(bench_run.main(["--only", NAME, *sys.argv[1:]]))
