"""Typed client of the monolith's job-result callback (``/internal/v1/job-results``)."""

from types import TracebackType
from typing import Self

import httpx

from tessera_contract.client.responses import problem_error
from tessera_contract.client.transport import (
    DEFAULT_TIMEOUT,
    CircuitBreakerPolicy,
    ResilientTransport,
    RetryPolicy,
)
from tessera_contract.models.codec import payload_encode
from tessera_contract.models.jobs import JobResult
from tessera_contract.signing.standard_webhooks import StandardWebhookSigner

__all__ = ["JobResultCallbackClient"]


class JobResultCallbackClient:
    """Delivers job results from the processing service to the monolith, signed.

    The delivery's ``webhook-id`` is derived from the job id, so every retry of the same
    result carries the same id and the monolith applies it once.
    """

    def __init__(
        self,
        base_url: str,
        *,
        signer: StandardWebhookSigner,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreakerPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Post to the monolith at ``base_url``, signing with ``signer``."""
        self._signer = signer
        self._transport = ResilientTransport(
            base_url,
            service_name="monolith",
            timeout=timeout,
            retry=retry,
            breaker=breaker,
            transport=transport,
        )

    def job_result_deliver(self, result: JobResult) -> None:
        """Post ``result``; returns once the monolith accepted it (204).

        Raises :class:`~tessera_contract.client.errors.ServiceUnavailableError` when the
        monolith cannot take it now (leave the result in the outbox and try later), and
        :class:`~tessera_contract.client.errors.ProblemResponseError` when it refuses it.
        """
        body = payload_encode(result)
        message_id = f"job-result-{result.job_id}"

        def signed_headers() -> dict[str, str]:
            # Signed per attempt: a retry after a long Retry-After must not carry a stale timestamp.
            return self._signer.headers(body, message_id=message_id)

        response = self._transport.request(
            "POST",
            "/internal/v1/job-results",
            idempotent=True,
            content=body,
            headers={"Content-Type": "application/json"},
            header_factory=signed_headers,
        )
        if response.status_code != 204:
            raise problem_error(response, {})

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
