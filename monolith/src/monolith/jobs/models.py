"""The monolith's record of the processing jobs it asked for (a transactional outbox).

A `ProcessingJob` row is written in the same transaction as the change that needs the job
(an image upload, an order becoming paid, a report request); the relay (tasks.py) submits it
to the processing service after commit and again until it is accepted, so a job is never lost
while the service is down. The signed result callback fills in the outcome.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class JobKind(models.TextChoices):
    IMAGE_RENDITIONS = "image_renditions", "Image renditions"
    INVOICE_PDF = "invoice_pdf", "Invoice PDF"
    SALES_REPORT = "sales_report", "Sales report"


class JobSubjectType(models.TextChoices):
    PRODUCT_IMAGE = "product_image", "Product image"
    ORDER = "order", "Order"
    SALES_REPORT = "sales_report", "Sales report"


class ProcessingJobStatus(models.TextChoices):
    PENDING = "pending", "Pending (not yet accepted by processing)"
    SUBMITTED = "submitted", "Submitted (processing has it)"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class ProcessingJob(models.Model):
    """One job the monolith asked the processing service for, and what became of it."""

    kind = models.CharField(max_length=20, choices=JobKind.choices)
    subject_type = models.CharField(max_length=20, choices=JobSubjectType.choices)
    subject_reference = models.CharField(max_length=64)
    # Derived from the subject (e.g. invoice-<order number>), so a repeated request finds the
    # same row and a re-submitted one the same processing job.
    request_key = models.CharField(max_length=200, db_index=True)
    # The key sent as Idempotency-Key: the request key, with a suffix once staff retried.
    idempotency_key = models.CharField(max_length=255, unique=True)
    request_payload = models.JSONField(help_text="The JobCreateRequest, as the contract encodes it")
    status = models.CharField(
        max_length=20,
        choices=ProcessingJobStatus.choices,
        default=ProcessingJobStatus.PENDING,
        db_index=True,
    )
    submit_attempts = models.PositiveIntegerField(default=0)
    staff_retries = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True)
    job_id = models.UUIDField(null=True, blank=True, unique=True)
    # The job's attempts on the processing side, as its result reported them.
    processing_attempts = models.PositiveIntegerField(default=0)
    result_locations = models.JSONField(default=list, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["kind", "subject_type", "subject_reference"], name="job_subject_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending") | Q(job_id__isnull=False) | Q(status="failed"),
                name="processing_job_id_once_submitted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.subject_type} {self.subject_reference}"

    def result_location(self, *, media_type: str) -> str | None:
        """The storage location of the first result of this media type, if there is one."""
        return next(
            (
                str(item["location"])
                for item in self.result_locations
                if item.get("media_type") == media_type
            ),
            None,
        )


class JobResultReceipt(models.Model):
    """Every job result the callback accepted, once per job id: what makes it idempotent.

    Kept apart from ProcessingJob because a result can arrive before the relay has recorded
    the job id that processing answered with (a fast job); the relay applies it then.
    """

    job_id = models.UUIDField(unique=True)
    webhook_id = models.CharField(max_length=256)
    payload = models.JSONField()
    duplicate_deliveries = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return self.webhook_id


class SalesReportRequest(models.Model):
    """A sales report staff asked for in the admin: the orders of a date range, as CSV."""

    date_from = models.DateField()
    date_to = models.DateField()
    currency = models.CharField(max_length=3)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The order export the monolith wrote for the processing service to read.
    export_location = models.CharField(max_length=300, blank=True, editable=False)
    job = models.OneToOneField(
        ProcessingJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="report"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_to__gte=models.F("date_from")), name="sales_report_range_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"Sales {self.date_from} – {self.date_to} ({self.currency})"
