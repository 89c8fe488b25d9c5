"""One resilient HTTP transport for every internal API call.

Each attempt passes through a circuit breaker (pybreaker); idempotent calls are retried a
bounded number of times with full-jitter exponential backoff (tenacity), honouring the
server's Retry-After. Non-idempotent calls are sent once: a retry could apply them twice.
"""

import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx
import pybreaker
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from tessera_contract import __version__
from tessera_contract.client.errors import CircuitOpenError, ServiceUnavailableError

__all__ = ["CircuitBreakerPolicy", "HeaderFactory", "ResilientTransport", "RetryPolicy"]

# Called before each attempt, so that a retried call carries a fresh token or signature.
HeaderFactory = Callable[[], Mapping[str, str]]

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
# Statuses that say "the service is struggling", as opposed to "your request is wrong".
_SERVICE_FAILURE_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How persistently an idempotent call is retried.

    The wait before retry n is random in [0, min(max_backoff, initial_backoff * 2**n)]
    ("full jitter", so that many clients do not retry in step), but never shorter than the
    server's Retry-After. A Retry-After longer than ``max_retry_after`` ends the retries at
    once and is handed to the caller instead of blocking the thread.
    """

    max_attempts: int = 3
    initial_backoff: float = 0.2
    max_backoff: float = 2.0
    max_retry_after: float = 5.0
    total_deadline: float = 15.0


@dataclass(frozen=True, slots=True)
class CircuitBreakerPolicy:
    """When the breaker opens (``fail_max`` failed attempts in a row) and for how long."""

    fail_max: int = 5
    reset_timeout: float = 30.0


class _FailedAttempt(Exception):
    # One attempt that the breaker counts as a failure and that an idempotent call may retry.
    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class _StopOnLongRetryAfter(stop_base):
    # Waiting out a long Retry-After would block the caller's thread; better to hand the
    # hint back (ServiceUnavailableError.retry_after) and let the caller reschedule.
    def __init__(self, max_retry_after: float) -> None:
        self._max_retry_after = max_retry_after

    def __call__(self, retry_state: RetryCallState) -> bool:
        outcome = retry_state.outcome
        failure = outcome.exception() if outcome is not None else None
        return (
            isinstance(failure, _FailedAttempt)
            and failure.retry_after is not None
            and failure.retry_after > self._max_retry_after
        )


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Read a Retry-After header: delay-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, moment.timestamp() - current)


class ResilientTransport:
    """Sends requests to one internal service with timeouts, retries and a circuit breaker."""

    def __init__(
        self,
        base_url: str,
        *,
        service_name: str,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreakerPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Talk to ``base_url``; ``service_name`` names the breaker in logs and errors."""
        self._retry = retry or RetryPolicy()
        self._jitter = wait_random_exponential(
            multiplier=self._retry.initial_backoff, max=self._retry.max_backoff
        )
        breaker_policy = breaker or CircuitBreakerPolicy()
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=breaker_policy.fail_max,
            reset_timeout=breaker_policy.reset_timeout,
            name=service_name,
            # The attempt that trips the breaker reports its own failure, not "breaker open".
            throw_new_error_on_trip=False,
        )
        self._service_name = service_name
        self._http = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": f"tessera-contract/{__version__}"},
            follow_redirects=False,
        )

    @property
    def breaker_state(self) -> str:
        """'closed', 'open' or 'half-open'."""
        return str(self._breaker.current_state)

    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        header_factory: HeaderFactory | None = None,
    ) -> httpx.Response:
        """Send one logical call and return the final response (2xx, 3xx or 4xx).

        ``header_factory`` is called before each attempt. Raises
        :class:`ServiceUnavailableError` when every allowed attempt failed, and
        :class:`CircuitOpenError` without sending when the breaker is open.
        """
        policy = self._retry
        retrying = Retrying(
            stop=stop_after_attempt(policy.max_attempts if idempotent else 1)
            | stop_after_delay(policy.total_deadline)
            | _StopOnLongRetryAfter(policy.max_retry_after),
            wait=self._wait,
            retry=retry_if_exception_type(_FailedAttempt),
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, path, content, headers, header_factory)
        except pybreaker.CircuitBreakerError:
            raise CircuitOpenError(
                f"{self._service_name}: circuit open after repeated failures; call not sent"
            ) from None
        except _FailedAttempt as failure:
            raise ServiceUnavailableError(
                f"{self._service_name}: {failure}",
                retry_after=failure.retry_after,
                status=failure.status,
            ) from None

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _attempt(
        self,
        method: str,
        path: str,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        header_factory: HeaderFactory | None,
    ) -> httpx.Response:
        attempt_headers = dict(headers or {})
        if header_factory is not None:
            attempt_headers.update(header_factory())
        response: httpx.Response = self._breaker.call(
            self._send, method, path, content, attempt_headers
        )
        return response

    def _send(
        self, method: str, path: str, content: bytes | None, headers: dict[str, str]
    ) -> httpx.Response:
        try:
            response = self._http.request(method, path, content=content, headers=headers)
        except httpx.TimeoutException:
            raise _FailedAttempt("timed out", retry_after=None) from None
        except httpx.TransportError as error:
            raise _FailedAttempt(
                f"transport error ({type(error).__name__})", retry_after=None
            ) from None
        if response.status_code in _SERVICE_FAILURE_STATUSES:
            raise _FailedAttempt(
                f"HTTP {response.status_code}",
                status=response.status_code,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        return response

    def _wait(self, state: RetryCallState) -> float:
        delay = self._jitter(state)
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, _FailedAttempt) and failure.retry_after is not None:
            delay = max(delay, failure.retry_after)
        return float(delay)
