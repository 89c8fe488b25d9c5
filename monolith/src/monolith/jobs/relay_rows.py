"""How a submission attempt leaves its outbox row, whichever placement made it.

Every update is guarded by the row still being pending, so a row a staff retry or another
relay moved on in the meantime is never overwritten.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from .models import ProcessingJob, ProcessingJobStatus

logger = logging.getLogger(__name__)


def processing_retry_delay(*, attempts: int, retry_after: float | None = None) -> float:
    """Seconds before submission attempt ``attempts + 1``: doubling, capped, with jitter,
    and never sooner than the service's own Retry-After."""
    base = settings.PROCESSING_JOBS_RETRY_BASE_SECONDS
    ceiling = min(settings.PROCESSING_JOBS_RETRY_MAX_SECONDS, base * 2 ** max(attempts - 1, 0))
    # Half fixed, half random: rows failed in the same outage do not all retry in step.
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not security
    return max(delay, retry_after or 0.0)


def _pending(job: ProcessingJob) -> QuerySet[ProcessingJob]:
    return ProcessingJob.objects.filter(pk=job.pk, status=ProcessingJobStatus.PENDING)


def row_backoff(
    job: ProcessingJob, *, error: str, retry_after: float | None = None, counted: bool = False
) -> float:
    """The attempt failed for now: the row stays pending, due again after a backoff.

    ``counted``: the placement already counted this attempt when it claimed the row.
    """
    attempts = job.submit_attempts if counted else job.submit_attempts + 1
    delay = processing_retry_delay(attempts=attempts, retry_after=retry_after)
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
