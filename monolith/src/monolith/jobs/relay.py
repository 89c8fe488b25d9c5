"""The relay: submits the outbox's pending rows to processing, and sweeps what was missed.

Each submission goes through the contract's typed client with the row's Idempotency-Key, so
submitting the same row twice (a retried task, two relays) gets the same processing job back.
"""

from __future__ import annotations

import json
import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from tessera_contract.client import (
    ProblemResponseError,
    ServiceUnavailableError,
    UnexpectedResponseError,
)
from tessera_contract.models.codec import payload_decode
from tessera_contract.models.jobs import JobCreateRequest

from monolith.core.after_commit import enqueue_after_commit

from .client import ProcessingNotConfiguredError, processing_client
from .models import JobResultReceipt, ProcessingJob, ProcessingJobStatus
from .outbox import SUBMIT_TASK
from .results import TERMINAL_STATUSES, outcome_apply, receipt_apply

SWEEP_TASK = "jobs.processing_jobs_sweep"
# Rows one sweep re-queues at most; the next sweep takes the rest.
SWEEP_BATCH_SIZE = 100

logger = logging.getLogger(__name__)


def processing_retry_delay(*, attempts: int, retry_after: float | None = None) -> float:
    """Seconds before submission attempt ``attempts + 1``: doubling, capped, with jitter,
    and never sooner than the service's own Retry-After."""
    base = settings.PROCESSING_JOBS_RETRY_BASE_SECONDS
    ceiling = min(settings.PROCESSING_JOBS_RETRY_MAX_SECONDS, base * 2 ** max(attempts - 1, 0))
    # Half fixed, half random: rows failed in the same outage do not all retry in step.
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not security
    return max(delay, retry_after or 0.0)


def _request_decode(job: ProcessingJob) -> JobCreateRequest:
    return payload_decode(json.dumps(job.request_payload).encode(), JobCreateRequest)


def _problem_text(error: ProblemResponseError) -> str:
    problem = error.problem
    if problem is None:
        return str(error)
    parts = [f"HTTP {error.status}: {problem.title}", str(getattr(problem, "detail", "") or "")]
    errors = getattr(problem, "errors", None)
    if isinstance(errors, list):
        parts += [
            f"{item.pointer}: {item.detail}" for item in errors if isinstance(item.pointer, str)
        ]
    return " — ".join(part for part in parts if part)


def processing_job_submit(*, processing_job_id: int) -> float | None:
    """Submit one pending outbox row; return the seconds until it is due again, or None.

    5xx answers, timeouts and an open circuit leave the row pending with a backoff in
    `next_attempt_at` (nothing is lost while processing is down; the sweep submits it again
    once due); a 4xx marks it failed with the problem's details,
    since sending the same request again cannot succeed. No lock is held during the call:
    two relays submitting the same row get the same job back thanks to the Idempotency-Key.
    """
    job = ProcessingJob.objects.filter(pk=processing_job_id).first()
    if job is None or job.status != ProcessingJobStatus.PENDING:
        return None
    now = timezone.now()
    pending = ProcessingJob.objects.filter(pk=job.pk, status=ProcessingJobStatus.PENDING)
    try:
        created = processing_client().job_create(
            _request_decode(job), idempotency_key=job.idempotency_key
        )
    except (ServiceUnavailableError, ProcessingNotConfiguredError) as error:
        retry_after = getattr(error, "retry_after", None)
        delay = processing_retry_delay(attempts=job.submit_attempts + 1, retry_after=retry_after)
        pending.update(
            submit_attempts=F("submit_attempts") + 1,
            last_error=str(error)[:2000],
            next_attempt_at=now + timedelta(seconds=delay),
            updated_at=now,
        )
        logger.warning(
            "processing job %s not submitted (%s); retry in %.0f s", job.pk, error, delay
        )
        return delay
    except (ProblemResponseError, UnexpectedResponseError) as error:
        text = _problem_text(error) if isinstance(error, ProblemResponseError) else str(error)
        pending.update(
            status=ProcessingJobStatus.FAILED,
            submit_attempts=F("submit_attempts") + 1,
            last_error=text[:2000],
            next_attempt_at=None,
            updated_at=now,
        )
        logger.error("processing refused job %s: %s", job.pk, text)
        return None
    remote = created.job
    with transaction.atomic():
        recorded = pending.update(
            status=ProcessingJobStatus.SUBMITTED,
            job_id=remote.job_id,
            submit_attempts=F("submit_attempts") + 1,
            submitted_at=now,
            next_attempt_at=None,
            last_error="",
            updated_at=now,
        )
        if not recorded:
            return None
        receipt = JobResultReceipt.objects.filter(job_id=remote.job_id).first()
        if receipt is not None:
            # The result beat the relay here (a fast job): apply it now.
            receipt_apply(receipt)
        elif remote.status in TERMINAL_STATUSES:
            # The key replayed a job that finished long ago, whose callback we no longer have.
            row = ProcessingJob.objects.select_for_update().get(pk=job.pk)
            outcome_apply(row=row, outcome=remote, finished_at=remote.finished_at or now)
    return None


def processing_jobs_sweep() -> list[int]:
    """Queue the submission of every pending row that is due; apply stranded results.

    Due: a row whose backoff (`next_attempt_at`) has passed, or one never tried that nobody
    touched for PROCESSING_JOBS_SWEEP_GRACE seconds (its task after commit was lost: the
    broker was down, or the worker died). The sweep is the only retry: the state lives in the
    row, not in a Celery countdown a dead worker would lose. Each queued row is leased for
    GRACE seconds (`next_attempt_at`), so the next sweep does not queue it again meanwhile.
    Several workers sweeping at once at worst submit a row twice, which the Idempotency-Key
    absorbs.
    """
    now = timezone.now()
    grace = timedelta(seconds=settings.PROCESSING_JOBS_SWEEP_GRACE_SECONDS)
    due = list(
        ProcessingJob.objects.filter(status=ProcessingJobStatus.PENDING)
        .filter(
            Q(next_attempt_at__lte=now)
            | Q(next_attempt_at__isnull=True, updated_at__lte=now - grace)
        )
        .order_by("updated_at", "id")
        .values_list("pk", flat=True)[:SWEEP_BATCH_SIZE]
    )
    if due:
        ProcessingJob.objects.filter(pk__in=due).update(next_attempt_at=now + grace)
        enqueue_after_commit(SUBMIT_TASK, due)
    # A result and the relay's record of its job id can commit at the same moment without
    # either seeing the other; whichever missed is caught here.
    stranded = JobResultReceipt.objects.filter(
        applied_at__isnull=True,
        job_id__in=ProcessingJob.objects.filter(job_id__isnull=False).values("job_id"),
    )[:SWEEP_BATCH_SIZE]
    for receipt in stranded:
        with transaction.atomic():
            receipt_apply(receipt)
    return due
