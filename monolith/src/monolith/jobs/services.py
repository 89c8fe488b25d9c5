"""Asking the processing service for jobs (the outbox and its relay) and applying their results.

Writes only: the relay submits an outbox row through the contract's typed client with the
row's Idempotency-Key, so submitting the same row twice (a retried task, two relays) gets
the same processing job back. Results arrive through the signed callback (views.py) and are
recorded once per job id.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import random
import re
import tempfile
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

import msgspec
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from tessera_contract.client import (
    CircuitBreakerPolicy,
    ProblemResponseError,
    ProcessingClient,
    RetryPolicy,
    ServiceUnavailableError,
    UnexpectedResponseError,
)
from tessera_contract.models.base import JobError, ResultLocation, SubjectReference
from tessera_contract.models.codec import PayloadError, payload_decode, payload_encode
from tessera_contract.models.jobs import (
    BillingAddress,
    ImageRenditionsInput,
    ImageRenditionsJobCreate,
    InvoiceCustomer,
    InvoiceLine,
    InvoicePdfInput,
    InvoicePdfJobCreate,
    InvoiceTotals,
    JobCreateRequest,
    JobResult,
    SalesReportInput,
    SalesReportJobCreate,
)
from tessera_contract.signing.service_tokens import ServiceTokenIssuer, ServiceTokenKeyring

from monolith.accounts.models import User
from monolith.catalog.models import ProductImage
from monolith.core.errors import DomainError
from monolith.orders.models import Order
from monolith.orders.state_machine import PAYMENT_TAKEN_STATUSES

from .models import (
    JobResultReceipt,
    ProcessingJob,
    ProcessingJobStatus,
    SalesReportRequest,
)

logger = logging.getLogger(__name__)

# What the product pages ask for: three widths for srcset, WebP with a JPEG fallback.
RENDITION_WIDTHS = (320, 640, 1280)
RENDITION_FORMATS: tuple[Literal["webp"], Literal["jpeg"]] = ("webp", "jpeg")
PLACEHOLDER_RESULT_NAME = "placeholder.json"
_COLOUR = re.compile(r"\A#[0-9a-f]{6}\Z")
# Rows one sweep re-queues at most; the next sweep takes the rest.
SWEEP_BATCH_SIZE = 100
_TERMINAL_STATUSES = {
    "succeeded": ProcessingJobStatus.SUCCEEDED,
    "failed": ProcessingJobStatus.FAILED,
    "dead_lettered": ProcessingJobStatus.FAILED,
    "cancelled": ProcessingJobStatus.CANCELLED,
}


class ProcessingNotConfiguredError(DomainError):
    def __init__(self) -> None:
        super().__init__("SERVICE_TOKEN_KEYS is not set: the monolith cannot call processing.")


class JobNotRetryable(DomainError):
    def __init__(self, job: ProcessingJob) -> None:
        super().__init__(f"Only failed or cancelled jobs can be retried; this one is {job.status}.")


# --- The client -------------------------------------------------------------------------------

_clients: dict[tuple[str, str, str, float, float], ProcessingClient] = {}


def processing_client() -> ProcessingClient:
    """The process's client of the processing API, built from settings.

    One per configuration and process, so its connection pool and circuit breaker live as
    long as the worker: a processing outage opens the breaker once, not once per task.
    """
    keys = settings.PROCESSING_SERVICE_TOKEN_KEYS
    if not keys:
        raise ProcessingNotConfiguredError()
    identity = (
        settings.PROCESSING_API_URL,
        keys,
        settings.PROCESSING_TOKEN_AUDIENCE,
        settings.PROCESSING_REQUEST_TIMEOUT_SECONDS,
        settings.PROCESSING_CIRCUIT_RESET_SECONDS,
    )
    client = _clients.get(identity)
    if client is None:
        import httpx

        issuer = ServiceTokenIssuer(
            ServiceTokenKeyring.parse(keys),
            issuer=settings.PROCESSING_TOKEN_ISSUER,
            audience=settings.PROCESSING_TOKEN_AUDIENCE,
        )
        timeout = settings.PROCESSING_REQUEST_TIMEOUT_SECONDS
        client = ProcessingClient(
            settings.PROCESSING_API_URL,
            token_issuer=issuer,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            # Short in-call retries: the outbox is the long-term retry, and a worker thread
            # should not sit out a processing outage.
            retry=RetryPolicy(max_attempts=2, total_deadline=timeout * 2),
            # While open, submissions fail at once (the row stays pending) instead of each
            # waiting for a timeout from a service that is known to be down.
            breaker=CircuitBreakerPolicy(reset_timeout=settings.PROCESSING_CIRCUIT_RESET_SECONDS),
        )
        _clients[identity] = client
    return client


def processing_clients_close() -> None:
    """Close the cached clients' connection pools (at worker shutdown, or between tests)."""
    while _clients:
        _, client = _clients.popitem()
        client.close()


# --- Requesting jobs (the outbox) -------------------------------------------------------------


def _submit_after_commit(processing_job_id: int) -> None:
    from .tasks import processing_job_submit as submit_task

    def queue() -> None:
        try:
            submit_task.delay(processing_job_id)
        except Exception:
            # The broker is down: the row is committed, the worker's sweep submits it later.
            logger.exception(
                "could not queue the submission of processing job %s", processing_job_id
            )

    transaction.on_commit(queue)


def processing_job_request(*, request: JobCreateRequest, request_key: str) -> ProcessingJob:
    """Record that the monolith needs ``request`` done; the relay submits it after commit.

    Call it inside the transaction of the change that needs the job, so both commit or
    neither does. A second call with the same ``request_key`` returns the existing row.
    A request the contract refuses is recorded as failed at once (staff see why in the
    admin) rather than failing the change that asked for it.
    """
    existing = ProcessingJob.objects.filter(request_key=request_key).order_by("-id").first()
    if existing is not None:
        return existing
    encoded = payload_encode(request)
    status, last_error = ProcessingJobStatus.PENDING, ""
    try:
        # msgspec checks constraints on decode only: a round trip is the contract's check.
        payload_decode(encoded, JobCreateRequest)
    except PayloadError as error:
        status, last_error = ProcessingJobStatus.FAILED, f"invalid job request: {error}"
    with transaction.atomic():
        job, created = ProcessingJob.objects.get_or_create(
            idempotency_key=request_key,
            defaults={
                "kind": request.kind,
                "subject_type": request.subject.type,
                "subject_reference": request.subject.reference,
                "request_key": request_key,
                "request_payload": json.loads(encoded),
                "status": status,
                "last_error": last_error,
            },
        )
    if created and job.status == ProcessingJobStatus.PENDING:
        _submit_after_commit(job.pk)
    return job


def _file_sha256(image: ProductImage) -> str:
    import hashlib

    digest = hashlib.sha256()
    with image.image.open("rb") as source:
        for chunk in source.chunks():
            digest.update(chunk)
    return digest.hexdigest()


def renditions_request_key(*, image: ProductImage) -> str:
    return f"renditions-{image.pk}-{image.content_hash[:16]}"


def product_image_renditions_request(*, image: ProductImage) -> ProcessingJob | None:
    """Ask for the renditions of a saved product image, unless its file was already asked for.

    A new file (other bytes) forgets the old renditions, so the page shows the new original
    until the new renditions exist. Returns None when nothing had to be asked.
    """
    if not image.image:
        return None
    content_hash = _file_sha256(image)
    if content_hash != image.content_hash:
        image.content_hash = content_hash
        image.renditions = []
        image.placeholder_colour = ""
        image.save(update_fields=["content_hash", "renditions", "placeholder_colour"])
    key = renditions_request_key(image=image)
    if ProcessingJob.objects.filter(request_key=key).exists():
        return None
    request = ImageRenditionsJobCreate(
        subject=SubjectReference(type="product_image", reference=str(image.pk)),
        input=ImageRenditionsInput(
            source_location=str(image.image.name),
            widths=list(RENDITION_WIDTHS),
            formats=list(RENDITION_FORMATS),
        ),
    )
    return processing_job_request(request=request, request_key=key)


def _minor(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def order_invoice_request(*, order: Order) -> ProcessingJob:
    """Ask for the invoice PDF of a paid order (key ``invoice-<order number>``)."""
    request = InvoicePdfJobCreate(
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
                    unit_price_minor=_minor(line.unit_price),
                    line_total_minor=_minor(line.line_total),
                )
                for line in order.lines.order_by("id")
            ],
            totals=InvoiceTotals(
                subtotal_minor=_minor(order.subtotal),
                shipping_minor=_minor(order.shipping),
                tax_minor=_minor(order.tax),
                total_minor=_minor(order.total),
            ),
        ),
    )
    return processing_job_request(request=request, request_key=f"invoice-{order.number}")


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
            writer.writerow([number, placed_at.isoformat(), order_currency, _minor(total)])
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


def processing_job_retry(*, job: ProcessingJob) -> ProcessingJob:
    """Staff ask again for a job that failed: a new Idempotency-Key, so a new processing job."""
    with transaction.atomic():
        locked = ProcessingJob.objects.select_for_update().get(pk=job.pk)
        if locked.status not in (ProcessingJobStatus.FAILED, ProcessingJobStatus.CANCELLED):
            raise JobNotRetryable(locked)
        locked.staff_retries += 1
        locked.idempotency_key = f"{locked.request_key}-retry-{locked.staff_retries}"
        locked.status = ProcessingJobStatus.PENDING
        locked.job_id = None
        locked.submit_attempts = 0
        locked.next_attempt_at = None
        locked.last_error = ""
        locked.result_locations = []
        locked.submitted_at = None
        locked.finished_at = None
        locked.save()
        _submit_after_commit(locked.pk)
    return locked


# --- The relay --------------------------------------------------------------------------------


def processing_retry_delay(*, attempts: int, retry_after: float | None = None) -> float:
    """Seconds before submission attempt ``attempts + 1``: doubling, capped, with jitter,
    and never sooner than the service's own Retry-After."""
    base = settings.PROCESSING_JOBS_RETRY_BASE_SECONDS
    ceiling = min(settings.PROCESSING_JOBS_RETRY_MAX_SECONDS, base * 2 ** max(attempts - 1, 0))
    # Half fixed, half random: rows failed in the same outage do not all retry in step.
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not security
    return max(delay, retry_after or 0.0)


def _request_decode(job: ProcessingJob) -> JobCreateRequest:
    return payload_decode(json.dumps(job.request_payload).encode(), JobCreateRequest)


def _problem_text(error: ProblemResponseError) -> str:
    problem = error.problem
    if problem is None:
        return str(error)
    parts = [f"HTTP {error.status}: {problem.title}", str(getattr(problem, "detail", "") or "")]
    errors = getattr(problem, "errors", None)
    if isinstance(errors, list):
        parts += [
            f"{item.pointer}: {item.detail}" for item in errors if isinstance(item.pointer, str)
        ]
    return " — ".join(part for part in parts if part)


def processing_job_submit(*, processing_job_id: int) -> float | None:
    """Submit one pending outbox row; return the seconds until it is due again, or None.

    5xx answers, timeouts and an open circuit leave the row pending with a backoff in
    `next_attempt_at` (nothing is lost while processing is down; the sweep submits it again
    once due); a 4xx marks it failed with the problem's details,
    since sending the same request again cannot succeed. No lock is held during the call:
    two relays submitting the same row get the same job back thanks to the Idempotency-Key.
    """
    job = ProcessingJob.objects.filter(pk=processing_job_id).first()
    if job is None or job.status != ProcessingJobStatus.PENDING:
        return None
    now = timezone.now()
    pending = ProcessingJob.objects.filter(pk=job.pk, status=ProcessingJobStatus.PENDING)
    try:
        created = processing_client().job_create(
            _request_decode(job), idempotency_key=job.idempotency_key
        )
    except (ServiceUnavailableError, ProcessingNotConfiguredError) as error:
        retry_after = getattr(error, "retry_after", None)
        delay = processing_retry_delay(attempts=job.submit_attempts + 1, retry_after=retry_after)
        pending.update(
            submit_attempts=F("submit_attempts") + 1,
            last_error=str(error)[:2000],
            next_attempt_at=now + timedelta(seconds=delay),
            updated_at=now,
        )
        logger.warning(
            "processing job %s not submitted (%s); retry in %.0f s", job.pk, error, delay
        )
        return delay
    except (ProblemResponseError, UnexpectedResponseError) as error:
        text = _problem_text(error) if isinstance(error, ProblemResponseError) else str(error)
        pending.update(
            status=ProcessingJobStatus.FAILED,
            submit_attempts=F("submit_attempts") + 1,
            last_error=text[:2000],
            next_attempt_at=None,
            updated_at=now,
        )
        logger.error("processing refused job %s: %s", job.pk, text)
        return None
    remote = created.job
    with transaction.atomic():
        recorded = pending.update(
            status=ProcessingJobStatus.SUBMITTED,
            job_id=remote.job_id,
            submit_attempts=F("submit_attempts") + 1,
            submitted_at=now,
            next_attempt_at=None,
            last_error="",
            updated_at=now,
        )
        if not recorded:
            return None
        receipt = JobResultReceipt.objects.filter(job_id=remote.job_id).first()
        if receipt is not None:
            # The result beat the relay here (a fast job): apply it now.
            _receipt_apply(receipt)
        elif remote.status in _TERMINAL_STATUSES:
            # The key replayed a job that finished long ago, whose callback we no longer have.
            row = ProcessingJob.objects.select_for_update().get(pk=job.pk)
            _outcome_apply(
                row=row,
                status=remote.status,
                result_locations=list(remote.result_locations),
                error=remote.error,
                attempts=remote.attempts,
                finished_at=remote.finished_at or now,
            )
    return None


def processing_jobs_sweep() -> list[int]:
    """Queue the submission of every pending row that is due; apply stranded results.

    Due: a row whose backoff (`next_attempt_at`) has passed, or one never tried that nobody
    touched for PROCESSING_JOBS_SWEEP_GRACE seconds (its task after commit was lost: the
    broker was down, or the worker died). The sweep is the only retry: the state lives in the
    row, not in a Celery countdown a dead worker would lose. Each queued row is leased for
    GRACE seconds (`next_attempt_at`), so the next sweep does not queue it again meanwhile.
    Several workers sweeping at once at worst submit a row twice, which the Idempotency-Key
    absorbs.
    """
    now = timezone.now()
    grace = timedelta(seconds=settings.PROCESSING_JOBS_SWEEP_GRACE_SECONDS)
    due = list(
        ProcessingJob.objects.filter(status=ProcessingJobStatus.PENDING)
        .filter(
            Q(next_attempt_at__lte=now)
            | Q(next_attempt_at__isnull=True, updated_at__lte=now - grace)
        )
        .order_by("updated_at", "id")
        .values_list("pk", flat=True)[:SWEEP_BATCH_SIZE]
    )
    if due:
        ProcessingJob.objects.filter(pk__in=due).update(next_attempt_at=now + grace)
        for pk in due:
            _submit_after_commit(pk)
    # A result and the relay's record of its job id can commit at the same moment without
    # either seeing the other; whichever missed is caught here.
    stranded = JobResultReceipt.objects.filter(
        applied_at__isnull=True,
        job_id__in=ProcessingJob.objects.filter(job_id__isnull=False).values("job_id"),
    )[:SWEEP_BATCH_SIZE]
    for receipt in stranded:
        with transaction.atomic():
            _receipt_apply(receipt)
    return due


# --- Results ----------------------------------------------------------------------------------


def job_result_record(*, result: JobResult, webhook_id: str) -> bool:
    """Record a job's result once (per job id) and apply it to the job's row.

    Returns False for a repeated delivery, which changes nothing but the duplicate count.
    When the relay has not yet recorded which row the job id belongs to, the receipt waits
    and the relay (or the sweep) applies it.
    """
    with transaction.atomic():
        receipt, created = JobResultReceipt.objects.get_or_create(
            job_id=result.job_id,
            defaults={"webhook_id": webhook_id, "payload": json.loads(payload_encode(result))},
        )
        if not created:
            JobResultReceipt.objects.filter(pk=receipt.pk).update(
                duplicate_deliveries=F("duplicate_deliveries") + 1
            )
            return False
        _receipt_apply(receipt)
    return True


def _receipt_apply(receipt: JobResultReceipt) -> None:
    # Inside the caller's transaction.
    row = ProcessingJob.objects.select_for_update().filter(job_id=receipt.job_id).first()
    if row is None or receipt.applied_at is not None:
        return
    result = payload_decode(json.dumps(receipt.payload).encode(), JobResult)
    _outcome_apply(
        row=row,
        status=result.status,
        result_locations=list(result.result_locations),
        error=result.error,
        attempts=result.attempts,
        finished_at=result.finished_at,
    )
    receipt.applied_at = timezone.now()
    receipt.save(update_fields=["applied_at"])


def _outcome_apply(
    *,
    row: ProcessingJob,
    status: str,
    result_locations: list[ResultLocation],
    error: JobError | None,
    attempts: int,
    finished_at: datetime,
) -> None:
    row.status = _TERMINAL_STATUSES.get(status, ProcessingJobStatus.FAILED)
    row.result_locations = [msgspec.to_builtins(item) for item in result_locations]
    row.last_error = f"{error.code}: {error.message}" if error is not None else ""
    row.processing_attempts = attempts
    row.finished_at = finished_at
    row.next_attempt_at = None
    row.save()
    if row.status == ProcessingJobStatus.SUCCEEDED and row.kind == "image_renditions":
        _renditions_apply(row)


def _placeholder_colour(row: ProcessingJob) -> str:
    location = next(
        (
            item["location"]
            for item in row.result_locations
            if item.get("name") == PLACEHOLDER_RESULT_NAME
        ),
        None,
    )
    if location is None:
        return ""
    try:
        with default_storage.open(location, "rb") as placeholder:
            colour = json.loads(placeholder.read(4096)).get("dominant_colour", "")
    except (OSError, ValueError, AttributeError):
        logger.warning("unreadable placeholder for processing job %s", row.pk)
        return ""
    return colour if isinstance(colour, str) and _COLOUR.match(colour) else ""


def _renditions_apply(row: ProcessingJob) -> None:
    image = ProductImage.objects.filter(pk=int(row.subject_reference)).first()
    # A result for an older file of this image (re-uploaded since) must not replace the
    # renditions of the current one.
    if image is None or renditions_request_key(image=image) != row.request_key:
        return
    image.renditions = [
        {
            "location": item["location"],
            "media_type": item["media_type"],
            "width": item["width"],
            "height": item["height"],
        }
        for item in row.result_locations
        if str(item.get("media_type", "")).startswith("image/") and "width" in item
    ]
    image.placeholder_colour = _placeholder_colour(row)
    image.save(update_fields=["renditions", "placeholder_colour"])
