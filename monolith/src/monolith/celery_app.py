"""The monolith's Celery application, configured from Django settings (CELERY_* names)."""

import os
from typing import Any

from celery import Celery, signals
from tessera_runtime.telemetry.celery_worker import celery_worker_telemetry_connect
from tessera_runtime.worker_timer import PeriodicTask, periodic_tasks_step

from monolith.inbox.consumers import WebhookInboxConsumerStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings.local")

app = Celery("monolith")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _periodic_tasks() -> list[PeriodicTask]:
    from django.conf import settings

    from monolith.inbox.services import SWEEP_TASK as INBOX_SWEEP_TASK
    from monolith.jobs.relay import SWEEP_TASK as JOBS_SWEEP_TASK

    return [
        # Failed inbox events past their backoff, applied again.
        PeriodicTask(INBOX_SWEEP_TASK, settings.INBOX_SWEEP_INTERVAL_SECONDS),
        # Processing jobs whose submission was lost or is due again; stranded results.
        PeriodicTask(JOBS_SWEEP_TASK, settings.PROCESSING_JOBS_SWEEP_INTERVAL_SECONDS),
    ]


# The worker also takes `tessera.webhooks` (raw envelopes from the webhook functions) in
# batches, and queues its sweeps on its own timer.
app.steps["consumer"].add(WebhookInboxConsumerStep)
app.steps["consumer"].add(periodic_tasks_step(_periodic_tasks))


@signals.worker_process_shutdown.connect
def _processing_clients_close(**_: Any) -> None:
    # Each pool process keeps its client of the processing API (jobs/client.py) open.
    from monolith.jobs.client import processing_clients_close

    processing_clients_close()


# Tasks, the inbox consumer and their SQL traced; the inbox metrics served.
celery_worker_telemetry_connect(service_name="tessera-monolith-worker")
