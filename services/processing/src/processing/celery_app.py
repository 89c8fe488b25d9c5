"""The processing service's Celery application, configured from Django settings (CELERY_*)."""

import os
import time
from typing import Any

from celery import Celery, signals
from tessera_contract.messaging import JOB_RUN_TASK
from tessera_runtime.telemetry.celery_worker import celery_worker_telemetry_connect

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "processing.settings.local")

app = Celery("processing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Job attempts, their SQL and the result callback traced; the job metrics served.
celery_worker_telemetry_connect(service_name="tessera-processing-worker")

_started: dict[str, float] = {}


@signals.task_prerun.connect
def _job_timer_start(task_id: str, task: Any, **_: Any) -> None:
    if task.name == JOB_RUN_TASK:
        _started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _job_duration_observe(task_id: str, task: Any, args: Any, **_: Any) -> None:
    """Observe tessera_job_duration_seconds{kind,outcome} for one job attempt.

    The outcome is the job's status once the attempt ended (succeeded, failed, cancelled,
    dead_lettered, or queued when it will be retried), read from the job's row.
    """
    started = _started.pop(task_id, None)
    if started is None or task.name != JOB_RUN_TASK:
        return
    from tessera_runtime.telemetry.metrics import JOB_DURATION

    from processing.jobs.models import Job

    message = args[0] if args else {}
    job_id: str = message.get("job_id", "")
    status = Job.objects.filter(id=job_id).values_list("status", flat=True).first()
    JOB_DURATION.labels(message.get("kind", "unknown"), status or "missing").observe(
        time.perf_counter() - started
    )
