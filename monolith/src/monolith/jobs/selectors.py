"""Reads of processing jobs for the pages: an order's invoice."""

from __future__ import annotations

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
