"""The monolith's Celery application, configured from Django settings (CELERY_* names)."""

import os
from typing import Any

from celery import Celery, signals
from tessera_contract.telemetry import telemetry_configure, telemetry_flush, telemetry_instrument

from monolith.inbox.consumers import WebhookInboxConsumerStep
from monolith.jobs.worker import ProcessingJobsSweepStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings.local")

app = Celery("monolith")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The worker also drains `tessera.webhooks` (raw envelopes from the webhook functions).
app.steps["consumer"].add(WebhookInboxConsumerStep)
# ...and sweeps the processing-jobs outbox on a timer (monolith/jobs/worker.py).
app.steps["consumer"].add(ProcessingJobsSweepStep)


@signals.worker_init.connect
def _worker_metrics_serve(**_: Any) -> None:
    """Serve the inbox metrics from the main process when TESSERA_WORKER_METRICS_PORT is set."""
    from django.conf import settings
    from tessera_contract.telemetry.metrics import metrics_http_server_start

    metrics_http_server_start(
        port=settings.TESSERA_WORKER_METRICS_PORT, addr=settings.TESSERA_WORKER_METRICS_BIND
    )


@signals.worker_init.connect
@signals.worker_process_init.connect
def _worker_tracing_start(**_: Any) -> None:
    """Trace tasks, the inbox consumer and their SQL when the OTEL_* variables ask for it.

    worker_init covers the main process (the inbox consumer runs there and queues the apply
    tasks); worker_process_init each prefork child, as OpenTelemetry asks: a provider made
    before the fork is reused, anything else is set up in the child.
    """
    if telemetry_configure(service_name="tessera-monolith-worker"):
        telemetry_instrument(celery=True, httpx=True, psycopg=True)


@signals.worker_process_shutdown.connect
def _worker_spans_flush(**_: Any) -> None:
    # A pool child exits without running atexit handlers: send its last spans first.
    telemetry_flush()
