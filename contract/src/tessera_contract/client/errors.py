"""What a call to an internal API can end in, besides success."""

from tessera_contract.models.problems import ProblemDetails


class InternalApiError(Exception):
    """A call to an internal Tessera API did not succeed."""


class ServiceUnavailableError(InternalApiError):
    """The service did not answer usefully (connection failure, timeout, 5xx) after the
    retries the call allowed. ``retry_after`` is the service's own hint, in seconds, when it
    gave one; a Celery task can use it as its retry countdown."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class CircuitOpenError(ServiceUnavailableError):
    """The circuit breaker is open: recent calls failed, so this one was not even sent."""


class ProblemResponseError(InternalApiError):
    """The service refused the request with a 4xx answer; retrying the same call will not help."""

    def __init__(self, status: int, problem: ProblemDetails | None) -> None:
        title = problem.title if problem is not None else "no problem details"
        super().__init__(f"HTTP {status}: {title}")
        self.status = status
        self.problem = problem


class JobNotFoundError(ProblemResponseError):
    """No job has that id."""


class IdempotencyConflictError(ProblemResponseError):
    """The Idempotency-Key was already used for a different request body."""


class JobNotCancellableError(ProblemResponseError):
    """The job already finished, so it can no longer be cancelled."""


class UnexpectedResponseError(InternalApiError):
    """The service answered with something the contract does not allow (a drift)."""
