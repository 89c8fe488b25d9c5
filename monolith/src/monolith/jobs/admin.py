"""Staff see every processing job the monolith asked for and retry failed ones.

Sales reports, which staff request and download, are the orders app's (orders/admin.py)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from monolith.core.errors import DomainError
from monolith.core.overdue import OverdueListFilter

from .models import JobResultReceipt, ProcessingJob
from .outbox import processing_job_retry
from .selectors import processing_jobs_overdue


class ProcessingJobOverdueFilter(OverdueListFilter):
    overdue = staticmethod(processing_jobs_overdue)


@admin.register(ProcessingJob)
class ProcessingJobAdmin(admin.ModelAdmin[ProcessingJob]):
    list_display = [
        "id",
        "kind",
        "subject_type",
        "subject_reference",
        "status",
        "submit_attempts",
        "processing_attempts",
        "short_error",
        "updated_at",
    ]
    list_filter = [ProcessingJobOverdueFilter, "status", "kind"]
    search_fields = ["subject_reference", "idempotency_key", "job_id"]
    actions = ["retry"]
    readonly_fields = [field.name for field in ProcessingJob._meta.fields]

    @admin.display(description="last error")
    def short_error(self, job: ProcessingJob) -> str:
        return job.last_error[:120]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs are asked for by the shop, never typed in

    @admin.action(description="Retry the selected failed jobs")
    def retry(self, request: HttpRequest, queryset: QuerySet[ProcessingJob]) -> None:
        retried = 0
        for job in queryset:
            try:
                processing_job_retry(job=job)
            except DomainError as error:
                self.message_user(request, f"Job {job.pk}: {error}", messages.WARNING)
            else:
                retried += 1
        if retried:
            self.message_user(request, f"{retried} job(s) queued again.", messages.SUCCESS)


@admin.register(JobResultReceipt)
class JobResultReceiptAdmin(admin.ModelAdmin[JobResultReceipt]):
    list_display = ["webhook_id", "received_at", "applied_at", "duplicate_deliveries"]
    search_fields = ["job_id", "webhook_id"]
    readonly_fields = [field.name for field in JobResultReceipt._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
