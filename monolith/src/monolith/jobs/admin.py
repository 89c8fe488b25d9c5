"""Staff see every processing job the monolith asked for, retry failed ones, and request and
download sales reports."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from monolith.core.errors import DomainError

from . import services
from .models import JobResultReceipt, ProcessingJob, ProcessingJobStatus, SalesReportRequest

REPORT_MEDIA_TYPE = "text/csv"


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
    list_filter = ["status", "kind"]
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
                services.processing_job_retry(job=job)
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


@admin.register(SalesReportRequest)
class SalesReportRequestAdmin(admin.ModelAdmin[SalesReportRequest]):
    list_display = ["__str__", "requested_by", "created_at", "job_status", "download"]
    list_select_related = ["job", "requested_by"]
    fields = ["date_from", "date_to", "currency"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"currency": settings.TESSERA_CURRENCY}

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a request is immutable: ask for another range instead

    @admin.display(description="status")
    def job_status(self, report: SalesReportRequest) -> str:
        return report.job.get_status_display() if report.job else "—"

    @admin.display(description="report")
    def download(self, report: SalesReportRequest) -> str:
        if report.job is None or report.job.status != ProcessingJobStatus.SUCCEEDED:
            return "—"
        url = reverse("admin:jobs_salesreportrequest_download", args=[report.pk])
        return format_html('<a href="{}" data-report-download>Download CSV</a>', url)

    def save_model(
        self, request: HttpRequest, obj: SalesReportRequest, form: Any, change: bool
    ) -> None:
        try:
            created = services.sales_report_request(
                date_from=obj.date_from,
                date_to=obj.date_to,
                currency=obj.currency,
                requested_by=request.user if request.user.is_authenticated else None,
            )
        except DomainError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        obj.pk = created.pk

    def get_urls(self) -> list[URLPattern]:
        download = path(
            "<int:report_id>/download/",
            self.admin_site.admin_view(self.download_view),
            name="jobs_salesreportrequest_download",
        )
        return [download, *super().get_urls()]

    def download_view(self, request: HttpRequest, report_id: int) -> HttpResponseBase:
        """The report's CSV, read from where processing stored it; staff only (admin_view)."""
        if not self.has_view_permission(request):
            raise Http404
        report = get_object_or_404(SalesReportRequest.objects.select_related("job"), pk=report_id)
        location = report.job.result_location(media_type=REPORT_MEDIA_TYPE) if report.job else None
        if location is None or not default_storage.exists(location):
            messages.warning(request, "That report is not ready yet.")
            return redirect("admin:jobs_salesreportrequest_changelist")
        return FileResponse(
            default_storage.open(location, "rb"),
            as_attachment=True,
            filename=location.rsplit("/", 1)[-1],
            content_type=REPORT_MEDIA_TYPE,
        )
