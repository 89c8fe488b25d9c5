"""The processing service's Celery application, configured from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "processing.settings.local")

app = Celery("processing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
