"""The relay as it runs for real: a monolith Celery worker on RabbitMQ, the processing service
started only after the order was paid.

The order's invoice job is queued after commit by this process (the live server's role), the
worker finds processing down and keeps the job pending, processing comes up on the address the
worker was given, and the invoice arrives through the signed callback, once. PostgreSQL only:
the worker, a separate process, must see the test's database.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from amqp.exceptions import ChannelError
from django.db import connection
from kombu import Connection, Queue
from tessera_contract.messaging import MONOLITH_TASK_QUEUE
from tessera_testsupport import rabbitmq_vhost_url

from monolith.jobs.client import processing_clients_close
from monolith.jobs.models import ProcessingJob, ProcessingJobStatus
from monolith.orders.services import order_mark_paid
from scripts import components

from .factories import make_category, make_order, make_product, make_user
from .processing_support import (
    CALLBACK_SECRET,
    TOKEN_KEYS,
    free_port,
    processing_environment,
    processing_migrate_start,
    processing_service_running,
    wait_for,
)
from .running_stack import VHOST, this_process_publishing_to

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def task_queue_consumers(broker_url: str) -> int:
    """Consumers on the task queue; 0 until the worker declared it and listens."""
    with Connection(broker_url) as broker:
        try:
            # kombu types the answer loosely; RabbitMQ's is (name, messages, consumers).
            queue = Queue(MONOLITH_TASK_QUEUE, durable=True)
            declared: Any = queue(broker.channel()).queue_declare(passive=True)
            _, _, consumers = declared
        except ChannelError:
            return 0
        return int(consumers)


@contextlib.contextmanager
def monolith_worker(
    *, broker_url: str, processing_url: str, media_root, log_path
) -> Iterator[subprocess.Popen[bytes]]:
    database = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "monolith.settings.test",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}"
            f"/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": broker_url,
        "DJANGO_MEDIA_ROOT": str(media_root),
        "PROCESSING_API_URL": processing_url,
        "SERVICE_TOKEN_KEYS": TOKEN_KEYS,
        "JOB_RESULT_CALLBACK_SECRETS": CALLBACK_SECRET,
        "PROCESSING_REQUEST_TIMEOUT_SECONDS": "1",
        "PROCESSING_CIRCUIT_RESET_SECONDS": "1",
        "PROCESSING_JOBS_RETRY_BASE_SECONDS": "0.5",
        "PROCESSING_JOBS_RETRY_MAX_SECONDS": "1",
        "PROCESSING_JOBS_SWEEP_INTERVAL_SECONDS": "1",
        "PROCESSING_JOBS_SWEEP_GRACE_SECONDS": "2",
    }
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            components.celery_worker("monolith", "-c", "1", "-l", "INFO"),
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def test_an_invoice_requested_while_processing_is_down_arrives_once_it_comes_up(
    rabbitmq_url, live_server, settings, tmp_path
):
    broker_url = rabbitmq_vhost_url(rabbitmq_url, VHOST)
    media_root = tmp_path / "media"
    media_root.mkdir()
    settings.MEDIA_ROOT = media_root
    settings.JOB_RESULT_CALLBACK_SECRETS = CALLBACK_SECRET
    port = free_port()
    processing_workdir = tmp_path / "processing"
    # Migrating processing's database takes seconds: done while the monolith worker boots.
    migration = processing_migrate_start(
        processing_environment(
            workdir=processing_workdir, media_root=media_root, callback_url=live_server.url
        )
    )
    with (
        this_process_publishing_to(broker_url),
        monolith_worker(
            broker_url=broker_url,
            processing_url=f"http://127.0.0.1:{port}",
            media_root=media_root,
            log_path=tmp_path / "monolith-worker.log",
        ) as worker,
    ):
        wait_for(
            lambda: worker.poll() is not None or task_queue_consumers(broker_url) > 0,
            timeout=30,
            what="the monolith worker",
        )
        assert worker.poll() is None, (tmp_path / "monolith-worker.log").read_text()

        order = make_order((make_product(category=make_category()), 1), user=make_user("ines"))
        order_mark_paid(payment=order.payment, provider_payment_id="pi_1", cause="paid")
        job = ProcessingJob.objects.get(kind="invoice_pdf")

        def retried_while_down() -> bool:
            job.refresh_from_db()
            return job.submit_attempts >= 2

        wait_for(
            retried_while_down, timeout=20, what="the relay's attempts while processing is down"
        )
        assert job.status == ProcessingJobStatus.PENDING
        assert job.job_id is None

        assert migration.wait(timeout=120) == 0
        with processing_service_running(
            workdir=processing_workdir,
            media_root=media_root,
            callback_url=live_server.url,
            port=port,
            migrated=True,
        ) as processing:

            def finished() -> bool:
                job.refresh_from_db()
                return job.status not in (
                    ProcessingJobStatus.PENDING,
                    ProcessingJobStatus.SUBMITTED,
                )

            try:
                wait_for(finished, timeout=30, what="the invoice")
            except AssertionError as error:
                worker_log = (tmp_path / "monolith-worker.log").read_text()[-3000:]
                raise AssertionError(f"{error}\n{worker_log}\n{processing.log_text()}") from None

            assert job.status == ProcessingJobStatus.SUCCEEDED, job.last_error
            location = job.result_location(media_type="application/pdf")
            assert location is not None
            assert (media_root / location).read_bytes().startswith(b"%PDF-")
            with contextlib.closing(
                sqlite3.connect(processing_workdir / "processing.sqlite3")
            ) as database:
                (jobs,) = database.execute("select count(*) from jobs_job").fetchone()
            assert jobs == 1  # however often the relay tried, processing made one job
    processing_clients_close()
