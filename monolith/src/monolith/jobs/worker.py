"""The worker's timer that sweeps the processing-jobs outbox.

The worker's own timer rather than celery beat: no extra process to deploy and keep single,
and the sweep is idempotent, so several workers sweeping at once is harmless. The first
sweep runs one interval after start, which also picks up rows left pending while no worker ran.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import bootsteps
from django.conf import settings

logger = logging.getLogger(__name__)


def _sweep_queue() -> None:
    # Runs in the worker's main process: only publish; the sweep runs in the pool.
    from .tasks import processing_jobs_sweep

    try:
        processing_jobs_sweep.delay()
    except Exception:
        # A broker hiccup must not kill the timer; the next tick tries again.
        logger.exception("could not queue the processing-jobs sweep")


class ProcessingJobsSweepStep(bootsteps.StartStopStep):
    """Every PROCESSING_JOBS_SWEEP_INTERVAL_SECONDS, queue `jobs.processing_jobs_sweep`."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self._timer: Any = None

    def start(self, parent: Any) -> None:
        interval = settings.PROCESSING_JOBS_SWEEP_INTERVAL_SECONDS
        if interval > 0 and parent.timer is not None:
            self._timer = parent.timer.call_repeatedly(interval, _sweep_queue)

    def stop(self, parent: Any) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def shutdown(self, parent: Any) -> None:
        from .client import processing_clients_close

        self.stop(parent)
        processing_clients_close()
