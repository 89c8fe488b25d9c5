"""How a submission attempt leaves its outbox row, whichever placement made it: backing off,
failed, or submitted as a job.

Every update is guarded by the row still being pending, so a row a staff retry or another
relay moved on in the meantime is never overwritten.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.db.models import F, QuerySet
from django.utils import timezone

from .models import ProcessingJob, ProcessingJobStatus

logger = logging.getLogger(__name__)


def _pending(job: ProcessingJob) -> QuerySet[ProcessingJob]:
    return ProcessingJob.objects.filter(pk=job.pk, status=ProcessingJobStatus.PENDING)


def row_backoff(job: ProcessingJob, *, error: str, delay: float, counted: bool = False) -> float:
    """The attempt failed for now: the row stays pending, due again in ``delay`` seconds (the
    placement's own backoff); returns the delay.

    ``counted``: the placement already counted this attempt when it claimed the row.
    """
    attempts = job.submit_attempts if counted else job.submit_attempts + 1
    now = timezone.now()
    _pending(job).update(
        submit_attempts=attempts,
        last_error=error[:2000],
        next_attempt_at=now + timedelta(seconds=delay),
        updated_at=now,
    )
    logger.warning("processing job %s not submitted (%s); retry in %.0f s", job.pk, error, delay)
    return delay


def row_failed(job: ProcessingJob, *, error: str, counted: bool = False) -> None:
    """The request can never succeed as it is (refused, or invalid): failed, with why."""
    _pending(job).update(
        status=ProcessingJobStatus.FAILED,
        submit_attempts=job.submit_attempts if counted else F("submit_attempts") + 1,
        last_error=error[:2000],
        next_attempt_at=None,
        updated_at=timezone.now(),
    )


def row_submitted(
    job: ProcessingJob, *, job_id: uuid.UUID, at: datetime, counted: bool = False
) -> bool:
    """Record which job the row became; False when the row was no longer pending."""
    return bool(
        _pending(job).update(
            status=ProcessingJobStatus.SUBMITTED,
            job_id=job_id,
            submit_attempts=job.submit_attempts if counted else F("submit_attempts") + 1,
            submitted_at=at,
            next_attempt_at=None,
            last_error="",
            updated_at=at,
        )
    )
