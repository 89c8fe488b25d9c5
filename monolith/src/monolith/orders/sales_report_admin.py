"""Staff request sales reports for a date range and download them once processing made them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from monolith.core.errors import DomainError
from monolith.jobs.models import ProcessingJobStatus, SalesReportRequest

from .sales_reports import sales_report_request

REPORT_MEDIA_TYPE = "text/csv"


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
            created = sales_report_request(
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
