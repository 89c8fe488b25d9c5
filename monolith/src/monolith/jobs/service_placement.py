"""The ``service`` placement: submit the job to the processing API over HTTP.

Each submission goes through the contract's typed client with the row's Idempotency-Key, so
submitting the same row twice (a retried task, two relays) gets the same processing job back.
The result comes back later, on the signed callback (views.py → results.job_result_record).
"""

from __future__ import annotations

import logging
import random

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from tessera_contract.client import (
    ProblemResponseError,
    ServiceUnavailableError,
    UnexpectedResponseError,
)

from monolith.core.row_locks import row_locked

from .client import ProcessingNotConfiguredError, processing_client
from .models import JobResultReceipt, ProcessingJob
from .outbox import request_decode
from .results import TERMINAL_STATUSES, outcome_apply, receipt_apply
from .submission_outcomes import row_backoff, row_failed, row_submitted

logger = logging.getLogger(__name__)


def processing_retry_delay(*, attempts: int, retry_after: float | None = None) -> float:
    """Seconds before submission attempt ``attempts + 1``: doubling, capped, with jitter,
    and never sooner than the service's own Retry-After."""
    base = settings.PROCESSING_JOBS_RETRY_BASE_SECONDS
    ceiling = min(settings.PROCESSING_JOBS_RETRY_MAX_SECONDS, base * 2 ** max(attempts - 1, 0))
    # Half fixed, half random: rows failed in the same outage do not all retry in step.
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not security
    return max(delay, retry_after or 0.0)


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


class ServiceJobPlacement:
    """5xx answers, timeouts and an open circuit leave the row pending with a backoff (nothing
    is lost while processing is down; the sweep submits it again once due); a 4xx marks it
    failed with the problem's details, since sending the same request again cannot succeed.
    No lock is held during the call: two relays submitting the same row get the same job back
    thanks to the Idempotency-Key."""

    def job_submit(self, job: ProcessingJob) -> float | None:
        try:
            created = processing_client().job_create(
                request_decode(job), idempotency_key=job.idempotency_key
            )
        except (ServiceUnavailableError, ProcessingNotConfiguredError) as error:
            delay = processing_retry_delay(
                attempts=job.submit_attempts + 1, retry_after=getattr(error, "retry_after", None)
            )
            return row_backoff(job, error=str(error), delay=delay)
        except (ProblemResponseError, UnexpectedResponseError) as error:
            text = _problem_text(error) if isinstance(error, ProblemResponseError) else str(error)
            logger.error("processing refused job %s: %s", job.pk, text)
            row_failed(job, error=text)
            return None
        remote = created.job
        now = timezone.now()
        with transaction.atomic():
            if not row_submitted(job, job_id=remote.job_id, at=now):
                return None
            receipt = JobResultReceipt.objects.filter(job_id=remote.job_id).first()
            if receipt is not None:
                # The result beat the relay here (a fast job): apply it now.
                receipt_apply(receipt)
            elif remote.status in TERMINAL_STATUSES:
                # The key replayed a job that finished long ago, whose callback we no longer have.
                row = row_locked(ProcessingJob.objects.filter(pk=job.pk))
                outcome_apply(row=row, outcome=remote, finished_at=remote.finished_at or now)
        return None
