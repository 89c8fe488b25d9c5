"""A sales report streamed from the monolith's order export with constant memory.

The export (the contract's ``source_location``) is a CSV with a header row and at least the
columns order_number, placed_at (ISO 8601), currency and total_minor. Rows are read, filtered
and written one at a time, so a million orders take no more memory than ten.
"""

import csv
import io
import tempfile
from datetime import date, datetime
from typing import Any

from tessera_jobs.base import JobRun
from tessera_jobs.errors import JobInputInvalidError
from tessera_jobs.storage import result_save, source_open

REPORT_COLUMNS = ["order_number", "placed_at", "currency", "total_minor"]
REQUIRED_COLUMNS = frozenset(REPORT_COLUMNS)
CHECKPOINT_EVERY_ROWS = 50_000


def sales_report_write(payload: dict[str, Any], run: JobRun) -> list[dict[str, Any]]:
    """Write the orders placed in [date_from, date_to] in the report's currency, then a total."""
    if "csv" not in payload["formats"]:
        raise JobInputInvalidError("Only the csv format is produced.", code="format_unsupported")
    date_from = date.fromisoformat(payload["date_from"])
    date_to = date.fromisoformat(payload["date_to"])
    if date_to < date_from:
        raise JobInputInvalidError("date_to is before date_from.", code="date_range_invalid")
    currency = payload["currency"]
    total_minor = 0
    orders = 0
    # Spooled to disk past 1 MiB: the report itself is never held in memory either.
    with (
        source_open(run.storage, payload["source_location"]) as raw,
        tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spooled,
    ):
        rows = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        if not set(rows.fieldnames or ()) >= REQUIRED_COLUMNS:
            raise JobInputInvalidError(
                f"The export must have the columns {', '.join(REPORT_COLUMNS)}.",
                code="source_invalid",
            )
        text = io.TextIOWrapper(spooled, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow(REPORT_COLUMNS)
        for number, row in enumerate(rows, start=1):
            try:
                placed_on = datetime.fromisoformat(row["placed_at"]).date()
                amount = int(row["total_minor"])
            except (TypeError, ValueError):
                raise JobInputInvalidError(
                    f"Row {number} of the export is malformed.", code="source_invalid"
                ) from None
            if date_from <= placed_on <= date_to and row["currency"] == currency:
                writer.writerow([row["order_number"], row["placed_at"], row["currency"], amount])
                total_minor += amount
                orders += 1
            if number % CHECKPOINT_EVERY_ROWS == 0:
                run.checkpoint(50)
        writer.writerow(["TOTAL", f"{orders} orders", currency, total_minor])
        text.flush()
        spooled.seek(0)
        name = f"sales-{date_from:%Y%m%d}-{date_to:%Y%m%d}.csv"
        location = result_save(
            run.storage, job_id=run.job_id, name=name, content=spooled, media_type="text/csv"
        )
        text.detach()
    return [location]
