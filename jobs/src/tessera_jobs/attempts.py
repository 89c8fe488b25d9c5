"""One attempt of a job and what it comes to: the policy every runner of the kinds follows.

The processing service's worker and the monolith's inline placement both ask
`job_attempts_exhausted` before an attempt and `job_attempt_perform` for it, then keep the
outcome their own way (a job row and a result message; an outbox row and a recorded result).
What fails for good fails at once; what another attempt may cure is retried after a backoff
that doubles from a base the runner reads from its settings, until the attempts are used up
and the job is dead-lettered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from tessera_jobs.base import JobRun
from tessera_jobs.errors import JobCancelledError, JobWorkError

logger = logging.getLogger(__name__)

# The contract's terminal job statuses, and "retry": the job waits `retry_in_seconds` for its
# next attempt.
AttemptStatus = Literal["succeeded", "failed", "cancelled", "dead_lettered", "retry"]


@dataclass(frozen=True)
class JobRetryPolicy:
    """How many attempts a job gets and how long it waits between them."""

    max_attempts: int
    backoff_base_seconds: float

    def backoff_seconds(self, attempt: int) -> float:
        """Seconds between attempt ``attempt`` and the next: 1x, 2x, 4x… the base."""
        return float(self.backoff_base_seconds * 2 ** (attempt - 1))


@dataclass(frozen=True)
class AttemptOutcome:
    """How an attempt ended; ``error`` is the contract's JobError (code, message, retryable)."""

    status: AttemptStatus
    result_locations: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    # Status "retry" only: how long the job waits for its next attempt.
    retry_in_seconds: float = 0.0

    def error_summary(self) -> str:
        """``code: message`` of the error, for a log line or an outbox row's last error."""
        return f"{self.error['code']}: {self.error['message']}" if self.error else ""


def job_attempts_exhausted(*, attempts_used: int, policy: JobRetryPolicy) -> AttemptOutcome | None:
    """Before an attempt: the job is dead-lettered when earlier attempts used them all up.

    Only an attempt that never ended gets here (its worker was killed, by a poison job say):
    every attempt that ends decides itself whether another one follows.
    """
    if attempts_used < policy.max_attempts:
        return None
    return AttemptOutcome(
        status="dead_lettered",
        error={
            "code": "attempts_exhausted",
            "message": f"The job did not finish in {policy.max_attempts} attempts.",
            "retryable": False,
        },
    )


def job_attempt_perform(
    *, kind: str, payload: dict[str, Any], run: JobRun, attempt: int, policy: JobRetryPolicy
) -> AttemptOutcome:
    """Run attempt number ``attempt`` (already counted by the runner) of a job of ``kind``.

    Cancelled at a checkpoint: cancelled. A JobWorkError that is not retryable (bad input):
    failed. A retryable one, or any other exception (a bug, a time limit, a dependency):
    another attempt after the backoff, or dead-lettered once this was the last.
    """
    try:
        # Imported here, inside the attempt: the first import in a process (libvips, fpdf2)
        # can take a second, and a time limit hit during it must count as the attempt's.
        from tessera_jobs.registry import handler_for

        locations = handler_for(kind)(payload, run)
    except JobCancelledError:
        return AttemptOutcome(status="cancelled")
    except JobWorkError as error:
        failure = {"code": error.code, "message": str(error)[:1000], "retryable": error.retryable}
        if not error.retryable:
            return AttemptOutcome(status="failed", error=failure)
    except Exception as error:  # includes Celery's SoftTimeLimitExceeded: unknown failures may pass
        logger.exception("job %s attempt %s failed", run.job_id, attempt)
        failure = {"code": "processing_crashed", "message": type(error).__name__, "retryable": True}
    else:
        return AttemptOutcome(status="succeeded", result_locations=locations)
    if attempt >= policy.max_attempts:
        return AttemptOutcome(status="dead_lettered", error=failure)
    return AttemptOutcome(
        status="retry", error=failure, retry_in_seconds=policy.backoff_seconds(attempt)
    )
