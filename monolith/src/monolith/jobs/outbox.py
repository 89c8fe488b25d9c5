"""Asking the processing service for a job: the outbox row, written in the caller's transaction.

A `ProcessingJob` row commits with the change that needs the job (an image upload, an order
becoming paid, a report request) or not at all; the relay (relay.py) submits it after commit
and again until processing accepts it, so a job is never lost while the service is down.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import transaction
from tessera_contract.models.codec import PayloadError, payload_decode, payload_encode
from tessera_contract.models.jobs import JobCreateRequest

from monolith.core.after_commit import enqueue_item_after_commit
from monolith.core.errors import DomainError
from monolith.core.row_locks import row_locked

from .models import ProcessingJob, ProcessingJobStatus

# Takes a list of outbox row ids: one task for all the rows a transaction wrote.
SUBMIT_TASK = "jobs.processing_jobs_submit"


def request_decode(job: ProcessingJob) -> JobCreateRequest:
    """The contract's request an outbox row holds."""
    return payload_decode(json.dumps(job.request_payload).encode(), JobCreateRequest)


class JobNotRetryable(DomainError):
    def __init__(self, job: ProcessingJob) -> None:
        super().__init__(f"Only failed or cancelled jobs can be retried; this one is {job.status}.")


def processing_job_request(*, request: JobCreateRequest, request_key: str) -> ProcessingJob:
    """processing_jobs_request for one request; returns its row."""
    return processing_jobs_request(requests=[(request, request_key)])[0]


def processing_jobs_request(
    *, requests: Sequence[tuple[JobCreateRequest, str]]
) -> list[ProcessingJob]:
    """Record that the monolith needs these requests done (each with its request key); the
    relay submits them after commit, all in one task. Returns their rows, in order.

    Call it inside the transaction of the change that needs the jobs, so both commit or
    neither does. A key asked for before returns its existing row (the latest, after a staff
    retry). A request the contract refuses is recorded as failed at once (staff see why in
    the admin) rather than failing the change that asked for it. One multi-row insert for
    the new keys, which skips a key a concurrent transaction has just inserted.
    """
    by_key = dict(
        ProcessingJob.objects.filter(request_key__in=[key for _, key in requests])
        .order_by("id")
        .values_list("request_key", "pk")
    )
    rows = {key: _job_row(request, key) for request, key in requests if key not in by_key}
    if rows:
        ProcessingJob.objects.bulk_create(rows.values(), ignore_conflicts=True)
    jobs = ProcessingJob.objects.in_bulk([*by_key.values()])
    new = ProcessingJob.objects.filter(idempotency_key__in=list(rows)).order_by("pk")
    for job in new:
        jobs[job.pk] = job
        by_key[job.request_key] = job.pk
        if job.status == ProcessingJobStatus.PENDING:
            enqueue_item_after_commit(SUBMIT_TASK, job.pk)
    return [jobs[by_key[key]] for _, key in requests]


def _job_row(request: JobCreateRequest, request_key: str) -> ProcessingJob:
    """The outbox row of a request, failed at once when the contract refuses the request."""
    encoded = payload_encode(request)
    status, last_error = ProcessingJobStatus.PENDING, ""
    try:
        # msgspec checks constraints on decode only: a round trip is the contract's check.
        payload_decode(encoded, JobCreateRequest)
    except PayloadError as error:
        status, last_error = ProcessingJobStatus.FAILED, f"invalid job request: {error}"
    return ProcessingJob(
        kind=request.kind,
        subject_type=request.subject.type,
        subject_reference=request.subject.reference,
        request_key=request_key,
        idempotency_key=request_key,
        request_payload=json.loads(encoded),
        status=status,
        last_error=last_error,
    )


def processing_job_retry(*, job: ProcessingJob) -> ProcessingJob:
    """Staff ask again for a job that failed: a new Idempotency-Key, so a new processing job."""
    with transaction.atomic():
        locked = row_locked(ProcessingJob.objects.filter(pk=job.pk))
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
        enqueue_item_after_commit(SUBMIT_TASK, locked.pk)
    return locked
