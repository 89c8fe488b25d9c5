"""Business writes on jobs: create (idempotently), cancel, run an attempt, dead-letter, replay.

The state machine: queued -> running -> succeeded | failed | cancelled, and back to queued for
a retry; a job whose attempts are used up ends dead_lettered, from where staff may replay it.
"""

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import msgspec
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from tessera_contract.client.job_results import JobResultCallbackClient
from tessera_contract.models.base import JobKind
from tessera_contract.models.codec import MalformedPayloadError, payload_decode, payload_encode
from tessera_contract.models.jobs import Job as JobResource
from tessera_contract.models.jobs import JobCreateRequest, JobQueued, JobResult
from tessera_contract.signing.standard_webhooks import StandardWebhookSigner

from processing.jobs.errors import JobCancelledError, JobWorkError
from processing.jobs.models import TERMINAL_STATUSES, Job, JobStatus

logger = logging.getLogger(__name__)

Checkpoint = Callable[[int], None]
JobHandler = Callable[[Any, Checkpoint, uuid.UUID], list[dict[str, Any]]]


class IdempotencyConflictError(Exception):
    """The Idempotency-Key was used before with a different body."""


class JobNotCancellableError(Exception):
    """The job already finished."""


@dataclass(frozen=True)
class JobCreation:
    job: Job
    created: bool


def _fingerprint(request: Any) -> str:
    # The canonical encoding, not the raw bytes: key order and spacing do not make a new body.
    return hashlib.sha256(payload_encode(request)).hexdigest()


def job_create(*, request: Any, idempotency_key: str) -> JobCreation:
    """Create the job for ``request`` once per key; a repeat returns the first job.

    Raises IdempotencyConflictError when the key was used with a different body.
    """
    fingerprint = _fingerprint(request)
    existing = Job.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    kind=request.kind,
                    idempotency_key=idempotency_key,
                    request_fingerprint=fingerprint,
                    subject_type=request.subject.type,
                    subject_reference=request.subject.reference,
                    input=_to_builtins(request.input),
                    max_attempts=settings.PROCESSING_JOB_MAX_ATTEMPTS,
                )
                job_enqueue_on_commit(job=job)
            return JobCreation(job=job, created=True)
        except IntegrityError:
            # Another request with the same key won the race; answer with its job.
            existing = Job.objects.get(idempotency_key=idempotency_key)
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyConflictError()
    return JobCreation(job=existing, created=False)


def _to_builtins(value: Any) -> Any:
    return msgspec.to_builtins(value)


def job_enqueue_on_commit(*, job: Job, countdown: float | None = None) -> None:
    """Queue the job's next attempt (asyncapi jobQueued) on its kind's queue once the row is
    committed, so the worker always finds it."""
    from processing.jobs.tasks import job_run_task

    queued = JobQueued(
        job_id=job.id,
        kind=cast(JobKind, job.kind),
        attempt=job.attempts + 1,
        enqueued_at=timezone.now(),
    )
    message = msgspec.to_builtins(queued)
    options = {
        "queue": settings.PROCESSING_QUEUES[job.kind],
        "soft_time_limit": settings.PROCESSING_SOFT_TIME_LIMITS.get(
            job.kind, settings.CELERY_TASK_SOFT_TIME_LIMIT
        ),
        "time_limit": settings.PROCESSING_TIME_LIMITS.get(
            job.kind, settings.CELERY_TASK_TIME_LIMIT
        ),
        "countdown": countdown,
    }
    transaction.on_commit(lambda: job_run_task.apply_async(args=(message,), **options))


def job_cancel(*, job: Job) -> Job:
    """Cancel a queued job now; ask a running one to stop at its next checkpoint."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(id=job.id)
        if job.status == JobStatus.CANCELLED:
            return job
        if job.status in TERMINAL_STATUSES:
            raise JobNotCancellableError()
        job.cancel_requested = True
        if job.status == JobStatus.QUEUED:
            job.status = JobStatus.CANCELLED
            job.finished_at = timezone.now()
        job.save()
    if job.status == JobStatus.CANCELLED:
        job_result_deliver_on_commit(job=job)
    return job


def job_to_resource(job: Job) -> JobResource:
    """The contract's view of a job."""
    return payload_decode(
        payload_encode(
            {
                "job_id": str(job.id),
                "kind": job.kind,
                "status": job.status,
                "progress": job.progress,
                "attempts": job.attempts,
                "max_attempts": job.max_attempts,
                "cancel_requested": job.cancel_requested,
                "subject": {"type": job.subject_type, "reference": job.subject_reference},
                "created_at": job.created_at,
                "updated_at": job.updated_at,
                "started_at": job.started_at,
                "finished_at": job.finished_at,
                "result_locations": job.result_locations,
                "error": job.error,
            }
        ),
        JobResource,
    )


def job_to_result(job: Job) -> JobResult:
    """The contract's result message of a job in a terminal status."""
    return payload_decode(
        payload_encode(
            {
                "job_id": str(job.id),
                "kind": job.kind,
                "status": job.status,
                "subject": {"type": job.subject_type, "reference": job.subject_reference},
                "attempts": job.attempts,
                "finished_at": job.finished_at or datetime.now(UTC),
                "result_locations": job.result_locations,
                "error": job.error,
            }
        ),
        JobResult,
    )


def _job_start(*, job_id: uuid.UUID) -> Job | None:
    """Count the attempt before the work, so a worker killed mid-job still used it up."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(id=job_id).first()
        if job is None or job.status in TERMINAL_STATUSES:
            return None  # a redelivery of finished work: do nothing, exactly once
        if job.attempts >= job.max_attempts:
            job.status = JobStatus.DEAD_LETTERED
            job.finished_at = timezone.now()
            job.error = job.error or {
                "code": "attempts_exhausted",
                "message": f"The job did not finish in {job.max_attempts} attempts.",
                "retryable": False,
            }
            job.save()
            job_result_deliver_on_commit(job=job)
            return None
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or timezone.now()
        job.save()
    return job


def _checkpoint_for(job_id: uuid.UUID) -> Checkpoint:
    def checkpoint(progress: int) -> None:
        updated = Job.objects.filter(id=job_id, cancel_requested=False).update(
            progress=min(progress, 100), updated_at=timezone.now()
        )
        if not updated:
            raise JobCancelledError()

    return checkpoint


def _job_finish(*, job_id: uuid.UUID, **fields: Any) -> None:
    with transaction.atomic():
        job = Job.objects.select_for_update().get(id=job_id)
        for name, value in fields.items():
            setattr(job, name, value)
        job.finished_at = timezone.now()
        job.save()
        job_result_deliver_on_commit(job=job)


def job_attempt_run(*, job_id: uuid.UUID) -> None:
    """Run one attempt of a job: the whole life of a worker's delivery.

    A retry is a new message queued with a backoff; the attempt is counted before the work,
    so a worker that dies mid-job has used it up and a poison job ends dead-lettered.
    """
    from processing.jobs.kinds import handler_for

    job = _job_start(job_id=job_id)
    if job is None:
        return
    try:
        locations = handler_for(job.kind)(job.input, _checkpoint_for(job.id), job.id)
    except JobCancelledError:
        _job_finish(job_id=job.id, status=JobStatus.CANCELLED)
        return
    except JobWorkError as error:
        failure = {"code": error.code, "message": str(error)[:1000], "retryable": error.retryable}
        if error.retryable:
            _job_retry_or_dead_letter(job=job, error=failure)
            return
        _job_finish(job_id=job.id, status=JobStatus.FAILED, error=failure)
        return
    except Exception as error:  # includes SoftTimeLimitExceeded: unknown failures may pass
        logger.exception("job %s attempt %s failed", job.id, job.attempts)
        failure = {"code": "processing_crashed", "message": type(error).__name__, "retryable": True}
        _job_retry_or_dead_letter(job=job, error=failure)
        return
    _job_finish(
        job_id=job.id,
        status=JobStatus.SUCCEEDED,
        progress=100,
        result_locations=locations,
        error=None,
    )


def _job_retry_or_dead_letter(*, job: Job, error: dict[str, Any]) -> None:
    if job.attempts >= job.max_attempts:
        _job_finish(job_id=job.id, status=JobStatus.DEAD_LETTERED, error=error)
        return
    with transaction.atomic():
        Job.objects.filter(id=job.id).update(
            status=JobStatus.QUEUED, error=error, updated_at=timezone.now()
        )
        job_enqueue_on_commit(job=job, countdown=_backoff_seconds(job.attempts))
    return


def _backoff_seconds(attempts: int) -> float:
    # Exponential: 1x, 2x, 4x the base between attempts.
    return float(settings.PROCESSING_RETRY_BACKOFF_SECONDS * 2 ** (attempts - 1))


def job_replay(*, job: Job) -> Job:
    """Give a dead-lettered (or failed) job a fresh set of attempts and queue it again."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(id=job.id)
        if job.status not in {JobStatus.DEAD_LETTERED, JobStatus.FAILED}:
            raise JobNotCancellableError("only dead-lettered or failed jobs can be replayed")
        job.status = JobStatus.QUEUED
        job.max_attempts = job.attempts + settings.PROCESSING_JOB_MAX_ATTEMPTS
        job.error = None
        job.progress = 0
        job.finished_at = None
        job.save()
        job_enqueue_on_commit(job=job)
    return job


def job_result_deliver_on_commit(*, job: Job) -> None:
    """Publish the finished job's result (asyncapi jobResult) once its status is committed."""
    from processing.jobs.tasks import job_result_deliver_task

    message = msgspec.to_builtins(job_to_result(job))
    queue = settings.PROCESSING_RESULTS_QUEUE
    transaction.on_commit(lambda: job_result_deliver_task.apply_async(args=(message,), queue=queue))


def job_result_deliver(*, result: JobResult) -> None:
    """Post a result to the monolith's signed callback (the client retries with backoff)."""
    signer = StandardWebhookSigner(settings.PROCESSING_CALLBACK_SECRETS)
    with JobResultCallbackClient(settings.MONOLITH_CALLBACK_URL, signer=signer) as client:
        client.job_result_deliver(result)


def _whole_number(text: str) -> float | int:
    number = float(text)
    return int(number) if number.is_integer() else number


def job_request_decode(raw: bytes) -> Any:
    """Decode a JobCreateRequest (raises the codec's PayloadError subclasses).

    JSON Schema counts 640.0 as an integer, msgspec does not; whole floats are read as ints
    first so that every body the contract allows is accepted.
    """
    try:
        document = json.loads(raw, parse_float=_whole_number)
    except (ValueError, RecursionError) as error:
        raise MalformedPayloadError(str(error)) from None
    return payload_decode(payload_encode(document), JobCreateRequest)
