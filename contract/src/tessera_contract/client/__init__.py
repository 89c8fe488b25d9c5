"""Typed clients of Tessera's internal APIs (install the ``client`` extra).

Built on httpx (timeouts, connection pooling), tenacity (bounded retries with full jitter)
and pybreaker (circuit breaker). Not imported by the models or signing modules, so a webhook
function never loads it.
"""

from tessera_contract.client.errors import (
    CircuitOpenError,
    IdempotencyConflictError,
    InternalApiError,
    JobNotCancellableError,
    JobNotFoundError,
    ProblemResponseError,
    ServiceUnavailableError,
    UnexpectedResponseError,
)
from tessera_contract.client.job_results import JobResultCallbackClient
from tessera_contract.client.processing import JobCreated, ProcessingClient
from tessera_contract.client.transport import CircuitBreakerPolicy, RetryPolicy

__all__ = [
    "CircuitBreakerPolicy",
    "CircuitOpenError",
    "IdempotencyConflictError",
    "InternalApiError",
    "JobCreated",
    "JobNotCancellableError",
    "JobNotFoundError",
    "JobResultCallbackClient",
    "ProblemResponseError",
    "ProcessingClient",
    "RetryPolicy",
    "ServiceUnavailableError",
    "UnexpectedResponseError",
]
