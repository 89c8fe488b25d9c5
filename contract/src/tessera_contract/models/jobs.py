"""Payloads of the processing service: job requests, the job resource, queue messages, results."""

from datetime import date
from typing import Annotated, Literal, cast

from msgspec import Meta

from tessera_contract.models.base import (
    UNSET,
    AmountMinor,
    ContractStruct,
    CountryCode,
    CurrencyCode,
    JobError,
    JobId,
    JobKind,
    JobStatus,
    OrderNumber,
    ResultLocation,
    SubjectReference,
    TerminalJobStatus,
    Timestamp,
    TraceContext,
    UnsetType,
    pattern_for_python,
)

StorageLocation = Annotated[str, Meta(pattern=pattern_for_python(r"^[^\s]{1,2048}$"))]
ResultLocations = Annotated[list[ResultLocation], Meta(max_length=64)]


class ImageRenditionsInput(ContractStruct, frozen=True, kw_only=True):
    """Make responsive renditions of one uploaded product image."""

    source_location: StorageLocation
    widths: Annotated[list[Annotated[int, Meta(ge=16, le=8192)]], Meta(min_length=1, max_length=16)]
    formats: Annotated[list[Literal["avif", "webp", "jpeg"]], Meta(min_length=1, max_length=3)]


class InvoiceCustomer(ContractStruct, frozen=True, kw_only=True):
    """Who the invoice is addressed to."""

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    email: Annotated[str, Meta(pattern=pattern_for_python(r"^[^@\s]{1,64}@[^@\s]{1,255}$"))]


class BillingAddress(ContractStruct, frozen=True, kw_only=True):
    """The postal address printed on the invoice."""

    line1: Annotated[str, Meta(min_length=1, max_length=200)]
    line2: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    city: Annotated[str, Meta(min_length=1, max_length=100)]
    postal_code: Annotated[str, Meta(min_length=1, max_length=20)]
    country_code: CountryCode


class InvoiceLine(ContractStruct, frozen=True, kw_only=True):
    """One order line, with amounts already computed by the monolith."""

    sku: Annotated[str, Meta(pattern=pattern_for_python(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"))]
    description: Annotated[str, Meta(min_length=1, max_length=300)]
    quantity: Annotated[int, Meta(ge=1, le=10000)]
    unit_price_minor: AmountMinor
    line_total_minor: AmountMinor


class InvoiceTotals(ContractStruct, frozen=True, kw_only=True):
    """The order's totals as charged."""

    subtotal_minor: AmountMinor
    shipping_minor: AmountMinor
    tax_minor: AmountMinor
    total_minor: AmountMinor


class InvoicePdfInput(ContractStruct, frozen=True, kw_only=True):
    """Render the invoice of one paid order."""

    order_number: OrderNumber
    issued_at: Timestamp
    currency: CurrencyCode
    customer: InvoiceCustomer
    billing_address: BillingAddress
    lines: Annotated[list[InvoiceLine], Meta(min_length=1, max_length=500)]
    totals: InvoiceTotals


class SalesReportInput(ContractStruct, frozen=True, kw_only=True):
    """Summarise a period's sales from an export the monolith wrote."""

    date_from: date
    date_to: date
    currency: CurrencyCode
    source_location: StorageLocation
    formats: Annotated[list[Literal["csv", "pdf"]], Meta(min_length=1, max_length=2)]


class JobCreateBase(ContractStruct, tag_field="kind", frozen=True, kw_only=True):
    """Fields every job request has; ``kind`` is the tag that selects the subclass."""

    subject: SubjectReference

    @property
    def kind(self) -> JobKind:
        """The job kind, read from the tag this request was decoded with."""
        return cast(JobKind, self.__struct_config__.tag)


class ImageRenditionsJobCreate(JobCreateBase, tag="image_renditions", frozen=True, kw_only=True):
    """Ask for the renditions of a product image."""

    input: ImageRenditionsInput


class InvoicePdfJobCreate(JobCreateBase, tag="invoice_pdf", frozen=True, kw_only=True):
    """Ask for the invoice PDF of an order."""

    input: InvoicePdfInput


class SalesReportJobCreate(JobCreateBase, tag="sales_report", frozen=True, kw_only=True):
    """Ask for a sales report."""

    input: SalesReportInput


JobCreateRequest = ImageRenditionsJobCreate | InvoicePdfJobCreate | SalesReportJobCreate


class Job(ContractStruct, frozen=True, kw_only=True):
    """A processing job as the processing API reports it."""

    job_id: JobId
    kind: JobKind
    status: JobStatus
    progress: Annotated[int, Meta(ge=0, le=100)]
    attempts: Annotated[int, Meta(ge=0, le=100)]
    max_attempts: Annotated[int, Meta(ge=1, le=100)]
    cancel_requested: bool
    subject: SubjectReference
    created_at: Timestamp
    updated_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    result_locations: ResultLocations
    error: JobError | None


class JobResult(ContractStruct, frozen=True, kw_only=True):
    """The outcome of a job that reached a terminal status."""

    job_id: JobId
    kind: JobKind
    status: TerminalJobStatus
    subject: SubjectReference
    attempts: Annotated[int, Meta(ge=0, le=100)]
    finished_at: Timestamp
    result_locations: ResultLocations
    error: JobError | None
    trace: TraceContext | UnsetType = UNSET


class JobQueued(ContractStruct, frozen=True, kw_only=True):
    """A job handed to the workers: ids only, the worker loads the job itself."""

    job_id: JobId
    kind: JobKind
    attempt: Annotated[int, Meta(ge=1, le=100)]
    enqueued_at: Timestamp
    trace: TraceContext | UnsetType = UNSET
