"""The inbox's Celery task: the sweep, queued by the worker's timer; the rules live in services.

Events themselves are applied by the consumer, in the batch that records them (intake.py).
"""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name=services.SWEEP_TASK, ignore_result=True)
def inbox_stuck_sweep() -> None:
    """Apply again the events that wait: failed ones past their backoff."""
    services.inbox_stuck_sweep()
