"""The webhook traffic of the benchmarks: the signed payment event they send, the run it flows
through (work folder, RabbitMQ vhost, PostgreSQL database), the functions' server settings for
that run, and the monolith's queues emptied between measures.

Used by the functions benchmark ((a) ingestion, (b) the burst, (c)–(d) Lambda) and by the
placements benchmark's webhook acknowledgement.
"""

from __future__ import annotations

import argparse
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO_ROOT / "bench"
# Signs and verifies within one run on loopback; nothing outside the run knows it.
PAYMENT_SECRET = "whsec_bench_payments"  # noqa: S105
# The functions benchmark's RabbitMQ vhost (with the run's id appended, deleted at exit).
VHOST = "tessera-bench"
# The reference of the payment signed_payment_request() pays.
PAYMENT_REFERENCE = "pay_bench_ingestion"


@dataclass(frozen=True)
class Run:
    """What every part of one run shares."""

    workdir: Path
    broker_url: str
    database_url: str
    carrier_secret: str
    django_environment: dict[str, str]


def run_prepare(arguments: argparse.Namespace, workdir: Path) -> Run:
    """The functions benchmark's run: its vhost, its database, the monolith's settings."""
    from tessera_contract.signing import standard_webhook_secret_generate
    from tessera_testsupport import rabbitmq_vhost_url

    from bench.server import free_port

    broker_url = rabbitmq_vhost_url(arguments.functions_rabbitmq_url, VHOST)
    database_url = arguments.functions_database_url
    django_environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchsite.settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH_DIR), os.environ.get("PYTHONPATH")])),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "TESSERA_BENCH_DATABASE_URL": database_url,
        "TESSERA_BENCH_STATIC_ROOT": str(workdir / "static"),
        "TESSERA_BENCH_MEDIA_ROOT": str(workdir / "media"),
        "CELERY_BROKER_URL": broker_url,
        # No processing service in this run: paid orders' invoice jobs stay in the outbox
        # (their submissions fail fast), and never reach one someone else runs on 8001.
        "PROCESSING_API_URL": f"http://127.0.0.1:{free_port()}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return Run(
        workdir=workdir,
        broker_url=broker_url,
        database_url=database_url,
        carrier_secret=standard_webhook_secret_generate(),
        django_environment=django_environment,
    )


def functions_environment(run: Run, *, bind: str, arguments: argparse.Namespace) -> dict[str, str]:
    """The functions' own server (`tessera_functions.serve`) on ``bind``, publishing to the
    run's vhost, with the functions benchmark's workers and threads."""
    return {
        **os.environ,
        "WEBHOOKS_BIND": bind,
        "WEBHOOKS_BROKER_URL": run.broker_url,
        "WEBHOOKS_WORKERS": str(arguments.gunicorn_workers),
        "WEBHOOKS_THREADS": str(arguments.gunicorn_threads),
        "PAYMENT_WEBHOOK_SECRETS": PAYMENT_SECRET,
        "CARRIER_WEBHOOK_SECRETS": run.carrier_secret,
    }


def queues_purge(broker_url: str) -> None:
    """Empty the inbox and task queues of the bench vhost (declared if missing)."""
    from kombu import Connection, Exchange, Queue
    from tessera_contract.messaging import MONOLITH_TASK_QUEUE, WEBHOOK_QUEUE

    webhooks = Exchange(WEBHOOK_QUEUE, type="direct", durable=True)
    tasks = Exchange(MONOLITH_TASK_QUEUE, type="direct")
    queues = [
        Queue(WEBHOOK_QUEUE, webhooks, routing_key=WEBHOOK_QUEUE, durable=True),
        Queue(MONOLITH_TASK_QUEUE, tasks, routing_key=MONOLITH_TASK_QUEUE, durable=True),
    ]
    with Connection(broker_url) as connection:
        for queue in queues:
            bound = queue(connection.channel())
            bound.declare()
            bound.purge()


def signed_payment_request() -> tuple[bytes, dict[str, str]]:
    """One payment_intent.succeeded event and its Stripe-Signature header, as the sandbox signs."""
    from tessera_contract.signing import StripeSignatureSigner
    from tessera_sandbox.events import Checkout, payment_event_body

    checkout = Checkout(payment_reference=PAYMENT_REFERENCE, amount_minor=1000, currency="EUR")
    body = payment_event_body(checkout, outcome="succeeded", event_id="evt_bench_ingestion")
    header = StripeSignatureSigner([PAYMENT_SECRET]).header(body)
    return body, {"Content-Type": "application/json", "Stripe-Signature": header}
