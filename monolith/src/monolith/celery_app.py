"""The monolith's Celery application, configured from Django settings (CELERY_* names)."""

import os

from celery import Celery
from tessera_contract.telemetry.celery_worker import celery_worker_telemetry_connect

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


# Tasks, the inbox consumer and their SQL traced; the inbox metrics served.
celery_worker_telemetry_connect(service_name="tessera-monolith-worker")
