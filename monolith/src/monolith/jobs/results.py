"""A job's result, recorded once per job id and applied to its outbox row.

What a succeeded job does to the shop (renditions on a product image, …) lives with the
domain that owns it: the app registers a handler for the job kind (in its AppConfig.ready),
so this app imports no domain app.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import msgspec
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from tessera_contract.models.codec import payload_decode, payload_encode
from tessera_contract.models.jobs import Job, JobResult

from monolith.core.row_locks import rows_locked

from .models import JobKind, JobResultReceipt, ProcessingJob, ProcessingJobStatus

# Called inside the transaction that records a succeeded job, with its row.
ResultHandler = Callable[[ProcessingJob], None]

_HANDLERS: dict[str, ResultHandler] = {}

TERMINAL_STATUSES = {
    "succeeded": ProcessingJobStatus.SUCCEEDED,
    "failed": ProcessingJobStatus.FAILED,
    "dead_lettered": ProcessingJobStatus.FAILED,
    "cancelled": ProcessingJobStatus.CANCELLED,
}


def result_handler_register(kind: JobKind, handler: ResultHandler) -> None:
    """Have ``handler`` applied to every job of ``kind`` that succeeds (one per kind)."""
    registered = _HANDLERS.setdefault(kind, handler)
    if registered is not handler:
        raise RuntimeError(f"a result handler for {kind} is already registered: {registered}")


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
        receipt_apply(receipt)
    return True


def receipt_apply(receipt: JobResultReceipt) -> None:
    """Apply a recorded result to its row, once; call it inside a transaction."""
    rows = rows_locked(ProcessingJob.objects.filter(job_id=receipt.job_id))
    if not rows or receipt.applied_at is not None:
        return
    row = rows[0]
    result = payload_decode(json.dumps(receipt.payload).encode(), JobResult)
    outcome_apply(row=row, outcome=result, finished_at=result.finished_at)
    receipt.applied_at = timezone.now()
    receipt.save(update_fields=["applied_at"])


def outcome_apply(*, row: ProcessingJob, outcome: Job | JobResult, finished_at: datetime) -> None:
    """Record a finished job's outcome (its result, or the job as processing describes it) on
    its locked row and hand a success to its kind."""
    error = outcome.error
    row.status = TERMINAL_STATUSES.get(outcome.status, ProcessingJobStatus.FAILED)
    row.result_locations = [msgspec.to_builtins(item) for item in outcome.result_locations]
    row.last_error = f"{error.code}: {error.message}" if error is not None else ""
    row.processing_attempts = outcome.attempts
    row.finished_at = finished_at
    row.next_attempt_at = None
    row.save()
    handler = _HANDLERS.get(row.kind)
    if row.status == ProcessingJobStatus.SUCCEEDED and handler is not None:
        handler(row)
