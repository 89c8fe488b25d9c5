"""The ``inline`` placement: processing's job kinds run in the monolith's own worker.

No HTTP and no second database: the relay's submission task runs the kind (the very
functions the processing workers run, `processing.jobs.kinds`) here, then records the result
through `results.job_result_record`, the service function the signed callback calls. Whatever
happens after a result (renditions on the product, the invoice link) is therefore the same
code in both placements.

What the processing service adds and this placement does not: its own queues per kind (a
flood of renditions shares this worker with the webhook inbox), cancellation while a job
runs, and its own scaling. The kinds are imported on the first inline job, not at start-up:
pyvips and fpdf2 cost memory a worker in the ``service`` placement never needs.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import msgspec
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from tessera_contract.models.codec import payload_decode
from tessera_contract.models.jobs import JobCreateRequest, JobResult

from .models import ProcessingJob, ProcessingJobStatus
from .outbox import request_decode
from .relay_rows import row_backoff, row_failed, row_submitted
from .results import job_result_record

logger = logging.getLogger(__name__)

# A job's id is derived from its Idempotency-Key: the same row run twice (its worker died
# after the work) is the same job, with the same results/<job id>/ folder.
JOB_ID_NAMESPACE = uuid.UUID("0c8f2f0e-5a43-4c3e-9d7a-6f1f4b1f7e21")


def _no_cancellation(progress: int) -> None:
    """Inline jobs report no progress and cannot be cancelled while they run."""


def _result(
    job: ProcessingJob, *, job_id: uuid.UUID, attempts: int, status: str, **outcome: Any
) -> JobResult:
    """The JobResult processing would have posted, checked against the contract."""
    document = {
        "job_id": str(job_id),
        "kind": job.kind,
        "status": status,
        "subject": {"type": job.subject_type, "reference": job.subject_reference},
        "attempts": attempts,
        "finished_at": timezone.now().isoformat(),
        "result_locations": outcome.get("result_locations", []),
        "error": outcome.get("error"),
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
    """Run the job here; a failure another attempt may cure backs off like an unreachable
    service, up to PROCESSING_JOB_MAX_ATTEMPTS, after which the job is dead-lettered."""

    def job_submit(self, job: ProcessingJob) -> float | None:
        # Imported with the first inline job: libvips and fpdf2 (see the module's docstring).
        from processing.jobs.errors import JobWorkError
        from processing.jobs.kinds.registry import handler_for
        from processing.jobs.kinds.requests import JobRequestUnsupportedError, job_request_check

        if not _claim(job):
            return None
        request: JobCreateRequest = request_decode(job)
        job_id = uuid.uuid5(JOB_ID_NAMESPACE, job.idempotency_key)
        attempts = job.submit_attempts
        try:
            job_request_check(request=request)
            locations = handler_for(job.kind)(
                msgspec.to_builtins(request.input), _no_cancellation, job_id
            )
        except JobRequestUnsupportedError as error:
            details = "; ".join(f"{item['pointer']}: {item['detail']}" for item in error.errors)
            row_failed(job, error=f"{error} — {details}", counted=True)
            return None
        except JobWorkError as error:
            failure = {"code": error.code, "message": str(error)[:1000]}
            if error.retryable:
                return self._retry_or_dead_letter(job, job_id=job_id, failure=failure)
            result = _result(
                job,
                job_id=job_id,
                attempts=attempts,
                status="failed",
                error={**failure, "retryable": False},
            )
        except Exception as error:  # includes SoftTimeLimitExceeded: unknown failures may pass
            logger.exception("inline job %s (row %s) attempt %s failed", job_id, job.pk, attempts)
            failure = {"code": "processing_crashed", "message": type(error).__name__}
            return self._retry_or_dead_letter(job, job_id=job_id, failure=failure)
        else:
            result = _result(
                job,
                job_id=job_id,
                attempts=attempts,
                status="succeeded",
                result_locations=locations,
            )
        self._record(job, result)
        return None

    def _retry_or_dead_letter(
        self, job: ProcessingJob, *, job_id: uuid.UUID, failure: dict[str, Any]
    ) -> float | None:
        if job.submit_attempts < settings.PROCESSING_JOB_MAX_ATTEMPTS:
            return row_backoff(job, error=f"{failure['code']}: {failure['message']}", counted=True)
        result = _result(
            job,
            job_id=job_id,
            attempts=job.submit_attempts,
            status="dead_lettered",
            error={**failure, "retryable": True},
        )
        self._record(job, result)
        return None

    def _record(self, job: ProcessingJob, result: JobResult) -> None:
        with transaction.atomic():
            if row_submitted(job, job_id=result.job_id, at=timezone.now(), counted=True):
                job_result_record(result=result, webhook_id=f"job-result-{result.job_id}")
