"""The monolith's Celery application, configured from Django settings (CELERY_* names)."""

import os

from celery import Celery

from monolith.inbox.consumers import WebhookInboxConsumerStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings.local")

app = Celery("monolith")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The worker also drains `tessera.webhooks` (raw envelopes from the webhook functions).
app.steps["consumer"].add(WebhookInboxConsumerStep)
