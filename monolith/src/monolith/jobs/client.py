"""The monolith's client of the processing API: one per configuration and process."""

from __future__ import annotations

from django.conf import settings
from tessera_contract.client import CircuitBreakerPolicy, ProcessingClient, RetryPolicy
from tessera_contract.signing.service_tokens import ServiceTokenIssuer, ServiceTokenKeyring

from monolith.core.errors import DomainError


class ProcessingNotConfiguredError(DomainError):
    def __init__(self) -> None:
        super().__init__("SERVICE_TOKEN_KEYS is not set: the monolith cannot call processing.")


_clients: dict[tuple[str, str, str, float, float], ProcessingClient] = {}


def processing_client() -> ProcessingClient:
    """The process's client of the processing API, built from settings.

    One per configuration and process, so its connection pool and circuit breaker live as
    long as the worker: a processing outage opens the breaker once, not once per task.
    """
    keys = settings.PROCESSING_SERVICE_TOKEN_KEYS
    if not keys:
        raise ProcessingNotConfiguredError()
    identity = (
        settings.PROCESSING_API_URL,
        keys,
        settings.PROCESSING_TOKEN_AUDIENCE,
        settings.PROCESSING_REQUEST_TIMEOUT_SECONDS,
        settings.PROCESSING_CIRCUIT_RESET_SECONDS,
    )
    client = _clients.get(identity)
    if client is None:
        import httpx

        issuer = ServiceTokenIssuer(
            ServiceTokenKeyring.parse(keys),
            issuer=settings.PROCESSING_TOKEN_ISSUER,
            audience=settings.PROCESSING_TOKEN_AUDIENCE,
        )
        timeout = settings.PROCESSING_REQUEST_TIMEOUT_SECONDS
        client = ProcessingClient(
            settings.PROCESSING_API_URL,
            token_issuer=issuer,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            # Short in-call retries: the outbox is the long-term retry, and a worker thread
            # should not sit out a processing outage.
            retry=RetryPolicy(max_attempts=2, total_deadline=timeout * 2),
            # While open, submissions fail at once (the row stays pending) instead of each
            # waiting for a timeout from a service that is known to be down.
            breaker=CircuitBreakerPolicy(reset_timeout=settings.PROCESSING_CIRCUIT_RESET_SECONDS),
        )
        _clients[identity] = client
    return client


def processing_clients_close() -> None:
    """Close the cached clients' connection pools (at worker shutdown, or between tests)."""
    while _clients:
        _, client = _clients.popitem()
        client.close()
