"""Celery task that applies one inbox event; the rules live in services."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from . import services
from .models import InboxEvent, InboxStatus
from .services import APPLY_TASK

logger = logging.getLogger(__name__)


@shared_task(bind=True, name=APPLY_TASK, max_retries=None)
def inbox_event_apply(self: Task, inbox_event_id: int) -> None:
    """Apply an inbox event; on failure retry with exponential backoff, then dead-letter."""
    try:
        services.inbox_event_apply(inbox_event_id=inbox_event_id)
    except InboxEvent.DoesNotExist:
        # Nothing to apply (the row was deleted by staff): retrying would never succeed.
        logger.warning("inbox event %s no longer exists", inbox_event_id)
    except Exception as error:
        event = services.inbox_event_failure_record(inbox_event_id=inbox_event_id, error=error)
        if event.status == InboxStatus.DEAD_LETTERED:
            return
        delay = services.inbox_retry_delay(attempts=event.attempts)
        raise self.retry(exc=error, countdown=delay.total_seconds()) from error


@shared_task(name="inbox.inbox_stuck_sweep", ignore_result=True)
def inbox_stuck_sweep() -> None:
    """Re-queue inbox events whose application was lost (queued by the worker's own timer)."""
    services.inbox_stuck_sweep()
