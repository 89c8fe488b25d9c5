"""The processes of one placement in the placements benchmark (bench/placements.py): their
settings, their freshly migrated databases, and their start, each stopped with the run.

- hybrid: the monolith's web process (gunicorn) and worker, the processing service's API
  (gunicorn) and worker, the webhook functions' server;
- monolith: the monolith's web process (gunicorn) and one worker, both placements `inline`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg
from tessera_contract.messaging import PROCESSING_QUEUES

from bench import pages, postgres, server
from bench.processes import http_status, process_running, wait_for
from bench.progress import BenchmarkFailure, phase
from bench.webhooks import (
    PAYMENT_REFERENCE,
    PAYMENT_SECRET,
    Run,
    functions_environment,
    queues_purge,
)
from scripts import components

# bench/placements.py's NAME: the benchmark its progress lines name.
BENCHMARK = "placements"
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


def services_check(database_url: str, rabbitmq_url: str) -> None:
    """Fail with a clear message when PostgreSQL or RabbitMQ is not there."""
    from urllib.parse import urlsplit

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

    # The run's folder (every process logs there), vhost and the monolith's database.
    run: Run
    processing_database_url: str
    # Known before the monolith starts: its relay submits there.
    processing_port: int
    arguments: argparse.Namespace


def monolith_environment(setup: Setup, placement: str) -> dict[str, str]:
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
    with phase(BENCHMARK, f"{placement}: recreating and migrating the databases"):
        postgres.database_recreate(setup.run.database_url)
        server.manage(environment, "migrate", "--noinput")
        completed = subprocess.run(
            [sys.executable, "-c", SETUP_SCRIPT, PAYMENT_REFERENCE],
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
            postgres.database_recreate(setup.processing_database_url)
            subprocess.run(
                components.manage("processing", "migrate", "--noinput", "-v", "0"),
                env=processing_environment(setup, 0),
                check=True,
                capture_output=True,
            )
        queues_purge(setup.run.broker_url)


@dataclass
class Running:
    """The placement's processes by component, and where its receivers listen."""

    processes: dict[str, subprocess.Popen[bytes]]
    monolith_environment: dict[str, str]
    receiver_url: str


def http_ready(name: str, port: int, process: subprocess.Popen[bytes], setup: Setup) -> None:
    wait_for(
        lambda: http_status(port, "/readyz") == 200,
        timeout_s=READY_TIMEOUT_S,
        what=f"{name} ready",
        process=process,
        log=setup.run.workdir / f"{name}.log",
    )


def placement_start(setup: Setup, placement: str, stack: ExitStack) -> Running:
    """Start every process the placement needs; each is stopped when `stack` closes."""
    monolith_port = server.free_port()
    environment = monolith_environment(setup, placement)
    databases_prepare(setup, environment, placement)
    processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        process = stack.enter_context(process_running(name, argv, env, workdir=setup.run.workdir))
        processes[name] = process
        return process

    with phase(BENCHMARK, f"{placement}: starting its processes"):
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
