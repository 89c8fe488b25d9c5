"""The job kinds by name; imported only where a job runs (it loads pyvips and fpdf2)."""

from tessera_jobs.base import JobHandler
from tessera_jobs.invoices import invoice_pdf_render
from tessera_jobs.renditions import image_renditions_make
from tessera_jobs.reports import sales_report_write

HANDLERS: dict[str, JobHandler] = {
    "image_renditions": image_renditions_make,
    "invoice_pdf": invoice_pdf_render,
    "sales_report": sales_report_write,
}


def handler_for(kind: str) -> JobHandler:
    """The function that does ``kind``'s work."""
    return HANDLERS[kind]
