"""The ``inline`` placement: the job kinds run in the monolith's own worker.

No HTTP and no second database: the relay's submission task runs the kind (the very
functions the processing workers run, the `tessera_jobs` package) here, with this project's
storage and limits, and follows the same attempt policy (`tessera_jobs.attempts`: retries
with backoff, dead letter). It then records the result through `results.job_result_record`,
the service function the signed callback calls. Whatever happens after a result (renditions
on the product, the invoice link) is therefore the same code in both placements.

What the processing service adds and this placement does not: its own queues per kind (a
flood of renditions shares this worker with the webhook inbox), cancellation while a job
runs, and its own scaling. The kinds are imported on the first inline job, not at start-up:
pyvips and fpdf2 cost memory a worker in the ``service`` placement never needs.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import msgspec
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from tessera_contract.models.codec import payload_decode
from tessera_contract.models.jobs import JobCreateRequest, JobResult
from tessera_jobs.attempts import (
    AttemptOutcome,
    JobRetryPolicy,
    job_attempt_perform,
    job_attempts_exhausted,
)
from tessera_jobs.base import JobLimits, JobRun
from tessera_jobs.request_checks import JobRequestUnsupportedError, job_request_check

from .models import ProcessingJob, ProcessingJobStatus
from .outbox import request_decode
from .results import job_result_record
from .submission_outcomes import row_backoff, row_failed, row_submitted

# A job's id is derived from its Idempotency-Key: the same row run twice (its worker died
# after the work) is the same job, with the same results/<job id>/ folder.
JOB_ID_NAMESPACE = uuid.UUID("0c8f2f0e-5a43-4c3e-9d7a-6f1f4b1f7e21")


def _no_cancellation(progress: int) -> None:
    """Inline jobs report no progress and cannot be cancelled while they run."""


def _retry_policy() -> JobRetryPolicy:
    # The same variables, and so the same policy, as the processing service's jobs.
    return JobRetryPolicy(
        max_attempts=settings.PROCESSING_JOB_MAX_ATTEMPTS,
        backoff_base_seconds=settings.PROCESSING_RETRY_BACKOFF_SECONDS,
    )


def _result(
    job: ProcessingJob, *, job_id: uuid.UUID, attempts: int, outcome: AttemptOutcome
) -> JobResult:
    """The JobResult processing would have posted, checked against the contract."""
    document: dict[str, Any] = {
        "job_id": str(job_id),
        "kind": job.kind,
        "status": outcome.status,
        "subject": {"type": job.subject_type, "reference": job.subject_reference},
        "attempts": attempts,
        "finished_at": timezone.now().isoformat(),
        "result_locations": outcome.result_locations,
        "error": outcome.error,
    }
    return payload_decode(msgspec.json.encode(document), JobResult)


def _claim(job: ProcessingJob) -> bool:
    """Count the attempt and lease the row for the job's run, unless another relay did.

    The lease outlasts the task's hard time limit, so only a worker that died mid-job leaves
    a row for the sweep to run again.
    """
    now = timezone.now()
    lease = timedelta(seconds=settings.PROCESSING_INLINE_LEASE_SECONDS)
    claimed = ProcessingJob.objects.filter(
        pk=job.pk, status=ProcessingJobStatus.PENDING, submit_attempts=job.submit_attempts
    ).update(submit_attempts=F("submit_attempts") + 1, next_attempt_at=now + lease, updated_at=now)
    job.submit_attempts += 1
    return bool(claimed)


class InlineJobPlacement:
    """Run the job here, under the job kinds' attempt policy: a failure another attempt may
    cure backs off (PROCESSING_RETRY_BACKOFF_SECONDS, doubling) up to
    PROCESSING_JOB_MAX_ATTEMPTS, after which the job is dead-lettered."""

    def job_submit(self, job: ProcessingJob) -> float | None:
        policy = _retry_policy()
        job_id = uuid.uuid5(JOB_ID_NAMESPACE, job.idempotency_key)
        # Attempts used up by runs that never ended (their worker died): dead-lettered
        # without a claim, so the result says how many attempts ran.
        exhausted = job_attempts_exhausted(attempts_used=job.submit_attempts, policy=policy)
        if exhausted is not None:
            self._record(
                job, _result(job, job_id=job_id, attempts=job.submit_attempts, outcome=exhausted)
            )
            return None
        if not _claim(job):
            return None
        request: JobCreateRequest = request_decode(job)
        try:
            job_request_check(request=request)
        except JobRequestUnsupportedError as error:
            details = "; ".join(f"{item['pointer']}: {item['detail']}" for item in error.errors)
            row_failed(job, error=f"{error} — {details}", counted=True)
            return None
        run = JobRun(
            job_id=job_id,
            checkpoint=_no_cancellation,
            storage=default_storage,
            limits=JobLimits(image_max_pixels=settings.PROCESSING_IMAGE_MAX_PIXELS),
        )
        outcome = job_attempt_perform(
            kind=job.kind,
            payload=msgspec.to_builtins(request.input),
            run=run,
            attempt=job.submit_attempts,
            policy=policy,
        )
        if outcome.status == "retry":
            return row_backoff(
                job, error=outcome.error_summary(), delay=outcome.retry_in_seconds, counted=True
            )
        self._record(
            job, _result(job, job_id=job_id, attempts=job.submit_attempts, outcome=outcome)
        )
        return None

    def _record(self, job: ProcessingJob, result: JobResult) -> None:
        with transaction.atomic():
            if row_submitted(job, job_id=result.job_id, at=timezone.now(), counted=True):
                job_result_record(result=result, webhook_id=f"job-result-{result.job_id}")
