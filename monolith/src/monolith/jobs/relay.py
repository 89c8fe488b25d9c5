"""The relay: submits the outbox's pending rows where jobs run, and sweeps what was missed.

Where a row goes is its placement's business (placement.py): the processing API over HTTP,
or the job-kind code in this worker. What the relay owns is when: after commit, and again
from the sweep until the row leaves pending.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from monolith.core.after_commit import enqueue_after_commit

from .models import JobResultReceipt, ProcessingJob, ProcessingJobStatus
from .outbox import SUBMIT_TASK
from .placement import job_placement
from .results import receipt_apply

SWEEP_TASK = "jobs.processing_jobs_sweep"
# Rows one sweep re-queues at most; the next sweep takes the rest.
SWEEP_BATCH_SIZE = 100


def processing_job_submit(*, processing_job_id: int) -> float | None:
    """Submit one pending outbox row where jobs run (PROCESSING_PLACEMENT); return the
    seconds until it is due again, or None."""
    job = ProcessingJob.objects.filter(pk=processing_job_id).first()
    if job is None or job.status != ProcessingJobStatus.PENDING:
        return None
    return job_placement().job_submit(job)


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
