"""Typed client of the processing service's jobs API (``/api/v1/jobs``)."""

import re
import uuid
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx

from tessera_contract.client.errors import (
    IdempotencyConflictError,
    JobNotCancellableError,
    JobNotFoundError,
)
from tessera_contract.client.responses import problem_error, response_model
from tessera_contract.client.transport import (
    DEFAULT_TIMEOUT,
    CircuitBreakerPolicy,
    ResilientTransport,
    RetryPolicy,
)
from tessera_contract.models.codec import payload_encode
from tessera_contract.models.jobs import Job, JobCreateRequest
from tessera_contract.signing.service_tokens import ServiceTokenIssuer

__all__ = ["JobCreated", "ProcessingClient"]

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(r"\A[\x21-\x7e]{1,255}\Z")
_JSON = "application/json"


@dataclass(frozen=True, slots=True)
class JobCreated:
    """The job, and whether this call created it (201) or replayed an earlier one (200)."""

    job: Job
    created: bool


class ProcessingClient:
    """Creates, reads and cancels processing jobs on behalf of the monolith.

    Every call is idempotent (job creation thanks to its Idempotency-Key), so every call is
    retried under the transport's retry policy, each attempt with a fresh service token.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token_issuer: ServiceTokenIssuer,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreakerPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Call the processing API at ``base_url`` with tokens from ``token_issuer``."""
        self._tokens = token_issuer
        self._transport = ResilientTransport(
            base_url,
            service_name="processing",
            timeout=timeout,
            retry=retry,
            breaker=breaker,
            transport=transport,
        )

    def job_create(self, request: JobCreateRequest, *, idempotency_key: str) -> JobCreated:
        """Create a job, or get back the one created earlier with the same key and body.

        Use a key derived from what the job is for (e.g. ``invoice-<order number>``), so a
        retried task never starts a second job. Raises :class:`IdempotencyConflictError` when
        the key was used with a different body.
        """
        if not _IDEMPOTENCY_KEY.match(idempotency_key):
            raise ValueError("an idempotency key is 1-255 visible ASCII characters")
        response = self._transport.request(
            "POST",
            "/api/v1/jobs",
            idempotent=True,
            content=payload_encode(request),
            headers={"Content-Type": _JSON, IDEMPOTENCY_KEY_HEADER: idempotency_key},
            header_factory=self._authorization,
        )
        if response.status_code in (200, 201):
            return JobCreated(
                job=response_model(response, Job), created=response.status_code == 201
            )
        raise problem_error(response, {409: IdempotencyConflictError})

    def job_get(self, job_id: uuid.UUID) -> Job:
        """Read a job's status, progress and results. Raises :class:`JobNotFoundError`."""
        response = self._transport.request(
            "GET", f"/api/v1/jobs/{job_id}", idempotent=True, header_factory=self._authorization
        )
        if response.status_code == 200:
            return response_model(response, Job)
        raise problem_error(response, {404: JobNotFoundError})

    def job_cancel(self, job_id: uuid.UUID) -> Job:
        """Cancel a job: at once when queued, at the worker's next checkpoint when running.

        Cancelling a cancelled job changes nothing. Raises :class:`JobNotCancellableError`
        when the job already finished, :class:`JobNotFoundError` when there is no such job.
        """
        response = self._transport.request(
            "POST",
            f"/api/v1/jobs/{job_id}/cancel",
            idempotent=True,
            header_factory=self._authorization,
        )
        if response.status_code in (200, 202):
            return response_model(response, Job)
        raise problem_error(response, {404: JobNotFoundError, 409: JobNotCancellableError})

    @property
    def breaker_state(self) -> str:
        """'closed', 'open' or 'half-open'."""
        return self._transport.breaker_state

    def close(self) -> None:
        """Close the connection pool."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _authorization(self) -> dict[str, str]:
        return {"Authorization": self._tokens.authorization_header()}
