"""A one-page PDF invoice with fpdf2 (pure Python, small, maintained)."""

import io
from datetime import datetime
from typing import Any

from fpdf import FPDF

from tessera_jobs.base import JobRun
from tessera_jobs.errors import JobInputInvalidError
from tessera_jobs.storage import result_save


def _money(amount_minor: int, currency: str) -> str:
    return f"{amount_minor // 100:,}.{amount_minor % 100:02d} {currency}"


def _latin1(text: str) -> str:
    # The core PDF fonts are Latin-1; anything outside it is shown as '?' rather than failing.
    return text.encode("latin-1", "replace").decode("latin-1")


def invoice_pdf_render(payload: dict[str, Any], run: JobRun) -> list[dict[str, Any]]:
    """Render the invoice: addresses, order reference, lines, subtotal, shipping, tax, total."""
    currency = payload["currency"]
    customer = payload["customer"]
    address = payload["billing_address"]
    totals = payload["totals"]
    issued_at = datetime.fromisoformat(payload["issued_at"])
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_title(f"Invoice {payload['order_number']}")
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, "Tessera - Invoice", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 6, f"Order {payload['order_number']}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Issued {issued_at:%Y-%m-%d}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    billed = [
        customer["name"],
        customer["email"],
        address["line1"],
        address.get("line2", ""),
        f"{address['postal_code']} {address['city']}",
        address["country_code"],
    ]
    for line in filter(None, billed):
        pdf.cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    # One page: 500 lines would not fit, so the table stops and says how many were left out.
    max_rows = 30
    with pdf.table(
        col_widths=(25, 85, 15, 32, 33), text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")
    ) as table:
        table.row(["SKU", "Description", "Qty", "Unit price", "Line total"])
        for line in payload["lines"][:max_rows]:
            table.row(
                [
                    line["sku"],
                    _latin1(line["description"][:60]),
                    str(line["quantity"]),
                    _money(line["unit_price_minor"], currency),
                    _money(line["line_total_minor"], currency),
                ]
            )
    if len(payload["lines"]) > max_rows:
        pdf.cell(
            0,
            6,
            f"... and {len(payload['lines']) - max_rows} more lines",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    run.checkpoint(60)
    pdf.ln(4)
    for label, key in (
        ("Subtotal", "subtotal_minor"),
        ("Shipping", "shipping_minor"),
        ("Tax", "tax_minor"),
        ("Total", "total_minor"),
    ):
        pdf.set_font("Helvetica", "B" if key == "total_minor" else "", 10)
        pdf.cell(150, 6, label, align="R")
        pdf.cell(40, 6, _money(totals[key], currency), align="R", new_x="LMARGIN", new_y="NEXT")
    if pdf.pages_count != 1:
        raise JobInputInvalidError("The invoice does not fit on one page.", code="invoice_too_long")
    document = bytes(pdf.output())
    return [
        result_save(
            run.storage,
            job_id=run.job_id,
            name=f"invoice-{payload['order_number']}.pdf",
            content=io.BytesIO(document),
            media_type="application/pdf",
        )
    ]
