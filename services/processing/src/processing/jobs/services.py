"""Business writes on jobs: create (idempotently), cancel, run an attempt, dead-letter, replay.

The state machine: queued -> running -> succeeded | failed | cancelled, and back to queued for
a retry; a job whose attempts are used up ends dead_lettered, from where staff may replay it.
"""

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import msgspec
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from tessera_contract.client.job_results import JobResultCallbackClient
from tessera_contract.messaging import JOB_RESULT_DELIVER_TASK, JOB_RUN_TASK
from tessera_contract.models.base import UNSET, JobKind
from tessera_contract.models.codec import payload_decode, payload_encode
from tessera_contract.models.jobs import Job as JobResource
from tessera_contract.models.jobs import (
    JobCreateRequest,
    JobQueued,
    JobResult,
)
from tessera_contract.signing.standard_webhooks import StandardWebhookSigner
from tessera_jobs.attempts import (
    AttemptOutcome,
    JobRetryPolicy,
    job_attempt_perform,
    job_attempts_exhausted,
)
from tessera_jobs.base import Checkpoint, JobLimits, JobRun
from tessera_jobs.errors import JobCancelledError
from tessera_jobs.request_checks import job_request_check
from tessera_runtime.telemetry.tracing import trace_context_current

from processing.jobs.models import TERMINAL_STATUSES, Job, JobStatus, OutboxMessage

logger = logging.getLogger(__name__)


class IdempotencyConflictError(Exception):
    """The Idempotency-Key was used before with a different body."""


class JobNotCancellableError(Exception):
    """The job already finished."""


class JobNotReplayableError(Exception):
    """Only a dead-lettered or failed job can be replayed."""


@dataclass(frozen=True)
class JobCreation:
    job: Job
    created: bool


def _fingerprint(request: JobCreateRequest) -> str:
    # The canonical encoding, not the raw bytes: key order and spacing do not make a new body.
    return hashlib.sha256(payload_encode(request)).hexdigest()


def job_create(*, request: JobCreateRequest, idempotency_key: str) -> JobCreation:
    """Create the job for ``request`` once per key; a repeat returns the first job.

    Raises IdempotencyConflictError when the key was used with a different body, and
    JobRequestUnsupportedError for a request the service refuses.
    """
    job_request_check(request=request)
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
    """Queue the job's next attempt (asyncapi jobQueued) on its kind's queue.

    Call it inside the transaction that changes the job: the message is written to the
    outbox in that transaction and published once it commits, so the worker always finds
    the row, and a broker that is down loses nothing (the relay publishes it later).
    """
    queued = JobQueued(
        job_id=job.id,
        kind=cast(JobKind, job.kind),
        attempt=job.attempts + 1,
        enqueued_at=timezone.now(),
        # Relayed messages carry no request-span headers: the trace travels in the payload.
        trace=trace_context_current() or UNSET,
    )
    outbox_message_add(
        task_name=JOB_RUN_TASK,
        queue=settings.PROCESSING_QUEUES[job.kind],
        payload=msgspec.to_builtins(queued),
        options={
            "soft_time_limit": settings.PROCESSING_SOFT_TIME_LIMITS.get(
                job.kind, settings.CELERY_TASK_SOFT_TIME_LIMIT
            ),
            "time_limit": settings.PROCESSING_TIME_LIMITS.get(
                job.kind, settings.CELERY_TASK_TIME_LIMIT
            ),
        },
        not_before=timezone.now() + timedelta(seconds=countdown) if countdown else None,
    )


def outbox_message_add(
    *,
    task_name: str,
    queue: str,
    payload: dict[str, Any],
    options: dict[str, Any] | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Record a message in the current transaction and publish it right after the commit.

    The relay leaves a new row alone for PROCESSING_OUTBOX_GRACE_SECONDS, the time the
    publish after commit normally takes, so the two do not both send it.
    """
    message = OutboxMessage.objects.create(
        task_name=task_name,
        queue=queue,
        payload=payload,
        options=options or {},
        not_before=not_before,
        next_publish_at=timezone.now()
        + timedelta(seconds=settings.PROCESSING_OUTBOX_GRACE_SECONDS),
    )
    # Sent as it is, unclaimed: the relay leaves it alone during the grace period.
    transaction.on_commit(lambda: _outbox_message_send(message))
    return message


def outbox_message_publish(*, message_id: uuid.UUID) -> bool:
    """Claim one due outbox message, publish it and delete it; on a broker error keep it.

    Returns whether it was published. Never raises for a broker that is down: the change the
    message announces is committed, and the caller answers as if it were queued (it is).
    """

    now = timezone.now()
    lease = now + timedelta(seconds=settings.PROCESSING_OUTBOX_LEASE_SECONDS)
    message = OutboxMessage.objects.filter(id=message_id).first()
    # Claimed by moving next_publish_at past the lease: a relay that read the row before
    # sees its update match nothing and leaves it to this publisher.
    if message is None or not OutboxMessage.objects.filter(
        id=message_id, next_publish_at=message.next_publish_at
    ).update(next_publish_at=lease):
        return False
    return _outbox_message_send(message)


def _outbox_message_send(message: OutboxMessage) -> bool:
    from processing.celery_app import app

    now = timezone.now()
    try:
        app.send_task(
            message.task_name,
            args=(message.payload,),
            queue=message.queue,
            task_id=str(message.id),
            eta=message.not_before if message.not_before and message.not_before > now else None,
            **message.options,
        )
    except Exception as error:  # kombu's OperationalError, OSError, a timeout: all "not sent"
        attempts = message.publish_attempts + 1
        logger.warning(
            "outbox message %s not published (attempt %s): %s", message.id, attempts, error
        )
        OutboxMessage.objects.filter(id=message.id).update(
            publish_attempts=attempts,
            last_error=f"{type(error).__name__}: {error}"[:500],
            next_publish_at=timezone.now()
            + timedelta(seconds=min(settings.PROCESSING_OUTBOX_MAX_BACKOFF_SECONDS, 2**attempts)),
        )
        return False
    OutboxMessage.objects.filter(id=message.id).delete()
    return True


def outbox_relay(*, limit: int = 100) -> int:
    """Publish the outbox messages that are due (their publish after commit failed, or the
    process died before it ran); return how many were published."""
    due = OutboxMessage.objects.filter(next_publish_at__lte=timezone.now()).values_list(
        "id", flat=True
    )[:limit]
    return sum(outbox_message_publish(message_id=message_id) for message_id in list(due))


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
    trace = trace_context_current()
    return payload_decode(
        payload_encode(
            {
                **({"trace": trace} if trace is not None else {}),
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


def _job_start(*, job_id: uuid.UUID, attempt: int | None, redelivered: bool) -> Job | None:
    """Claim the job for this delivery, or return None when the delivery must not run it.

    The attempt is counted before the work, so a worker killed mid-job still used it up.
    A message can arrive twice: the broker redelivers it when its worker died (flagged
    redelivered: run it again), and the outbox may publish it twice when a publish
    succeeded but its confirmation was lost (not flagged: a copy, never run). A message for
    an attempt other than the next one is a stale copy too.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(id=job_id).first()
        if job is None or job.status in TERMINAL_STATUSES:
            return None  # a redelivery of finished work: do nothing, exactly once
        if job.status == JobStatus.RUNNING and not redelivered:
            logger.info("job %s: a second copy of a running job's message, dropped", job_id)
            return None
        if job.status == JobStatus.QUEUED and attempt is not None and attempt != job.attempts + 1:
            logger.info("job %s: a copy of attempt %s's message, dropped", job_id, attempt)
            return None
        exhausted = job_attempts_exhausted(attempts_used=job.attempts, policy=_retry_policy(job))
        if exhausted is not None:
            job.status = JobStatus.DEAD_LETTERED
            job.finished_at = timezone.now()
            job.error = job.error or exhausted.error
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


def _retry_policy(job: Job) -> JobRetryPolicy:
    # A replayed job's max_attempts grew by PROCESSING_JOB_MAX_ATTEMPTS (job_replay).
    return JobRetryPolicy(
        max_attempts=job.max_attempts,
        backoff_base_seconds=settings.PROCESSING_RETRY_BACKOFF_SECONDS,
    )


def job_attempt_run(
    *, job_id: uuid.UUID, attempt: int | None = None, redelivered: bool = False
) -> None:
    """Run one attempt of a job: the whole life of a worker's delivery.

    ``attempt`` is the message's (asyncapi jobQueued.attempt), ``redelivered`` the broker's
    flag for a message whose earlier delivery was never acknowledged. The attempt's outcome
    is the job kinds' own policy (`tessera_jobs.attempts`); a retry is a new message queued
    with its backoff. The attempt is counted before the work, so a worker that dies mid-job
    has used it up and a poison job ends dead-lettered.
    """
    job = _job_start(job_id=job_id, attempt=attempt, redelivered=redelivered)
    if job is None:
        return
    run = JobRun(
        job_id=job.id,
        checkpoint=_checkpoint_for(job.id),
        storage=default_storage,
        limits=JobLimits(image_max_pixels=settings.PROCESSING_IMAGE_MAX_PIXELS),
    )
    outcome = job_attempt_perform(
        kind=job.kind, payload=job.input, run=run, attempt=job.attempts, policy=_retry_policy(job)
    )
    if outcome.status == "retry":
        _job_retry(job=job, outcome=outcome)
    elif outcome.status == "succeeded":
        _job_finish(
            job_id=job.id,
            status=JobStatus.SUCCEEDED,
            progress=100,
            result_locations=outcome.result_locations,
            error=None,
        )
    elif outcome.status == "cancelled":
        _job_finish(job_id=job.id, status=JobStatus.CANCELLED)
    else:  # failed or dead-lettered, with why
        _job_finish(job_id=job.id, status=JobStatus(outcome.status), error=outcome.error)


def _job_retry(*, job: Job, outcome: AttemptOutcome) -> None:
    with transaction.atomic():
        Job.objects.filter(id=job.id).update(
            status=JobStatus.QUEUED, error=outcome.error, updated_at=timezone.now()
        )
        job_enqueue_on_commit(job=job, countdown=outcome.retry_in_seconds)


def job_replay(*, job: Job) -> Job:
    """Give a dead-lettered (or failed) job a fresh set of attempts and queue it again."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(id=job.id)
        if job.status not in {JobStatus.DEAD_LETTERED, JobStatus.FAILED}:
            raise JobNotReplayableError("only dead-lettered or failed jobs can be replayed")
        job.status = JobStatus.QUEUED
        job.max_attempts = job.attempts + settings.PROCESSING_JOB_MAX_ATTEMPTS
        job.error = None
        job.progress = 0
        job.finished_at = None
        job.save()
        job_enqueue_on_commit(job=job)
    return job


def job_result_deliver_on_commit(*, job: Job) -> None:
    """Publish the finished job's result (asyncapi jobResult) through the outbox: call it in
    the transaction that finishes the job, so the result is sent once that commits."""
    outbox_message_add(
        task_name=JOB_RESULT_DELIVER_TASK,
        queue=settings.PROCESSING_RESULTS_QUEUE,
        payload=msgspec.to_builtins(job_to_result(job)),
    )


def job_result_deliver(*, result: JobResult) -> None:
    """Post a result to the monolith's signed callback (the client retries with backoff)."""
    signer = StandardWebhookSigner(settings.PROCESSING_CALLBACK_SECRETS)
    with JobResultCallbackClient(settings.MONOLITH_CALLBACK_URL, signer=signer) as client:
        client.job_result_deliver(result)


def job_request_decode(raw: bytes) -> JobCreateRequest:
    """Decode a JobCreateRequest (raises the codec's PayloadError subclasses); whole-number
    floats such as 640.0 are integers, as in the JSON Schema."""
    return payload_decode(raw, JobCreateRequest)
