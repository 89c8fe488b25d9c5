"""Reads of processing jobs: an order's invoice for the pages, the overdue ones for staff."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from monolith.core.overdue import overdue_counts, overdue_rows

from .models import JobKind, JobSubjectType, ProcessingJob, ProcessingJobStatus

INVOICE_MEDIA_TYPE = "application/pdf"


def order_invoice_job(*, order_number: str) -> ProcessingJob | None:
    """The latest invoice job of this order, whatever its status, or None."""
    return (
        ProcessingJob.objects.filter(
            kind=JobKind.INVOICE_PDF,
            subject_type=JobSubjectType.ORDER,
            subject_reference=order_number,
        )
        .order_by("-id")
        .first()
    )


def order_invoice_location(*, order_number: str) -> str | None:
    """Where the order's invoice PDF is stored, once processing made it."""
    job = order_invoice_job(order_number=order_number)
    if job is None or job.status != ProcessingJobStatus.SUCCEEDED:
        return None
    return job.result_location(media_type=INVOICE_MEDIA_TYPE)


# A job in one of these still owes its result: the relay has to submit it, or processing
# to call back.
JOB_WAITING_STATUSES = (ProcessingJobStatus.PENDING, ProcessingJobStatus.SUBMITTED)


def processing_jobs_overdue() -> QuerySet[ProcessingJob]:
    """Jobs without a result PROCESSING_JOB_BUDGET_SECONDS after they were asked for."""
    return overdue_rows(
        ProcessingJob.objects.all(),
        statuses=JOB_WAITING_STATUSES,
        budget_seconds=settings.PROCESSING_JOB_BUDGET_SECONDS,
    )


def processing_jobs_overdue_counts() -> dict[str, int]:
    """The overdue jobs by status."""
    return overdue_counts(processing_jobs_overdue(), statuses=JOB_WAITING_STATUSES)
