"""Sales reports staff ask for: the orders of a date range exported for processing to sum.

The monolith writes the export (it owns the orders); the processing service turns it into
the report CSV, which staff download from the admin.
"""

from __future__ import annotations

import csv
import io
import tempfile
import uuid
from datetime import date

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from tessera_contract.models.base import SubjectReference
from tessera_contract.models.jobs import SalesReportInput, SalesReportJobCreate

from monolith.accounts.models import User
from monolith.core.errors import DomainError
from monolith.core.money import minor_units
from monolith.jobs.models import SalesReportRequest
from monolith.jobs.outbox import processing_job_request

from .models import Order
from .state_machine import PAYMENT_TAKEN_STATUSES


def _sales_export_write(*, date_from: date, date_to: date, currency: str, name: str) -> str:
    """Write the orders sold in the range as the CSV the report job reads; returns its location."""
    orders = (
        Order.objects.filter(
            status__in=PAYMENT_TAKEN_STATUSES,
            currency=currency,
            created_at__date__gte=date_from,
            created_at__date__lte=date_to,
        )
        .order_by("created_at", "id")
        .values_list("number", "created_at", "currency", "total")
    )
    # Spooled to disk past 1 MiB and read with iterator(): a large export never sits in memory.
    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spooled:
        text = io.TextIOWrapper(spooled, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow(["order_number", "placed_at", "currency", "total_minor"])
        for number, placed_at, order_currency, total in orders.iterator(chunk_size=2000):
            writer.writerow([number, placed_at.isoformat(), order_currency, minor_units(total)])
        text.flush()
        spooled.seek(0)
        location = default_storage.save(name, File(spooled, name=name.rsplit("/", 1)[-1]))
        text.detach()
    return location


@transaction.atomic
def sales_report_request(
    *, date_from: date, date_to: date, currency: str, requested_by: User | None
) -> SalesReportRequest:
    """Export the range's orders and ask processing for the sales report (CSV).

    The export is written before the commit; if the transaction rolls back it stays behind
    as an unreferenced file, which is harmless, whereas a job without its export would fail.
    """
    if date_to < date_from:
        raise DomainError("The report's end date is before its start date.")
    report = SalesReportRequest.objects.create(
        date_from=date_from, date_to=date_to, currency=currency, requested_by=requested_by
    )
    report.export_location = _sales_export_write(
        date_from=date_from,
        date_to=date_to,
        currency=currency,
        name=f"exports/sales-{report.pk}-{uuid.uuid4().hex[:8]}.csv",
    )
    request = SalesReportJobCreate(
        subject=SubjectReference(type="sales_report", reference=str(report.pk)),
        input=SalesReportInput(
            date_from=date_from,
            date_to=date_to,
            currency=currency,
            source_location=report.export_location,
            formats=["csv"],
        ),
    )
    report.job = processing_job_request(request=request, request_key=f"sales-report-{report.pk}")
    report.save(update_fields=["export_location", "job"])
    return report
