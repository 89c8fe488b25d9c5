"""The invoice PDF of a paid order, asked of the processing service (key ``invoice-<number>``).

The PDF is read back through the jobs app's selectors; nothing on the order changes when it
is made, so the invoice kind registers no result handler.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.utils import timezone
from tessera_contract.models.base import SubjectReference
from tessera_contract.models.jobs import (
    BillingAddress,
    InvoiceCustomer,
    InvoiceLine,
    InvoicePdfInput,
    InvoicePdfJobCreate,
    InvoiceTotals,
)

from monolith.core.money import minor_units
from monolith.jobs.models import ProcessingJob
from monolith.jobs.outbox import processing_jobs_request

from .models import Order, OrderLine


def order_invoice_request(*, order: Order) -> ProcessingJob:
    """orders_invoice_request for one order; returns its job's row."""
    return orders_invoice_request(orders=[order])[0]


def orders_invoice_request(*, orders: Sequence[Order]) -> list[ProcessingJob]:
    """Ask for the invoice PDFs of paid orders, in the transaction that marks them paid (one
    outbox row each, asked for once per order); returns their jobs' rows, in order."""
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.filter(order__in=orders).order_by("order_id", "id"):
        lines[line.order_id].append(line)
    return processing_jobs_request(
        requests=[(_invoice_job(order, lines[order.pk]), _invoice_key(order)) for order in orders]
    )


def _invoice_key(order: Order) -> str:
    return f"invoice-{order.number}"


def _invoice_job(order: Order, lines: list[OrderLine]) -> InvoicePdfJobCreate:
    return InvoicePdfJobCreate(
        subject=SubjectReference(type="order", reference=order.number),
        input=InvoicePdfInput(
            order_number=order.number,
            issued_at=timezone.now(),
            currency=order.currency,
            customer=InvoiceCustomer(name=order.shipping_name, email=order.email),
            billing_address=BillingAddress(
                line1=order.shipping_line1,
                **({"line2": order.shipping_line2} if order.shipping_line2 else {}),
                city=order.shipping_city,
                postal_code=order.shipping_postal_code,
                country_code=order.shipping_country.upper(),
            ),
            lines=[
                InvoiceLine(
                    sku=line.sku,
                    description=line.name,
                    quantity=line.quantity,
                    unit_price_minor=minor_units(line.unit_price),
                    line_total_minor=minor_units(line.line_total),
                )
                for line in lines
            ],
            totals=InvoiceTotals(
                subtotal_minor=minor_units(order.subtotal),
                shipping_minor=minor_units(order.shipping),
                tax_minor=minor_units(order.tax),
                total_minor=minor_units(order.total),
            ),
        ),
    )
