"""Signed webhook delivery with retries, the way real providers deliver.

Each attempt is signed afresh (a retry carries a new timestamp, as Stripe's do); 5xx answers,
timeouts and refused connections are retried with exponential backoff; a 4xx is final.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from tessera_contract.signing import StandardWebhookSigner, StripeSignatureSigner

from .settings import SandboxSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryResult:
    status_code: int | None
    attempts: int
    delivered: bool
    seconds: float
    # What each attempt got: the status code, or "no answer" (refused, reset, timed out).
    answers: tuple[str, ...] = ()


NO_ANSWER = "no answer"
# A receiver that cannot take a delivery now must say when to come back (RFC 9110 §10.2.3).
UNAVAILABLE_WITHOUT_RETRY_AFTER = "503 without Retry-After"


def answer_label(response: httpx.Response) -> str:
    """What one attempt got, as the burst's report counts it: the status code, with a 503
    that does not say when to try again set apart."""
    if response.status_code == 503 and "retry-after" not in response.headers:
        return UNAVAILABLE_WITHOUT_RETRY_AFTER
    return str(response.status_code)


HeadersForAttempt = Callable[[], dict[str, str]]


def webhook_deliver(
    *,
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: HeadersForAttempt,
    max_attempts: int,
    retry_base_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryResult:
    """POST `body` until the receiver acknowledges it (2xx), refuses it (4xx) or we give up."""
    started = time.monotonic()
    status_code: int | None = None
    answers: list[str] = []
    for attempt in range(1, max_attempts + 1):
        try:
            response = client.post(
                url, content=body, headers={"Content-Type": "application/json", **headers()}
            )
            status_code = response.status_code
            answers.append(answer_label(response))
            if status_code < 500:
                return DeliveryResult(
                    status_code,
                    attempt,
                    200 <= status_code < 300,
                    time.monotonic() - started,
                    tuple(answers),
                )
            logger.warning("webhook to %s answered %d (attempt %d)", url, status_code, attempt)
        except httpx.TransportError as error:
            status_code = None
            answers.append(NO_ANSWER)
            logger.warning("webhook to %s failed: %r (attempt %d)", url, error, attempt)
        if attempt < max_attempts:
            sleep(retry_base_seconds * 2 ** (attempt - 1))
    return DeliveryResult(
        status_code, max_attempts, False, time.monotonic() - started, tuple(answers)
    )


class WebhookSender:
    """Sends the sandbox's signed webhooks, in the background like a real provider."""

    def __init__(self, settings: SandboxSettings, *, client: httpx.Client | None = None) -> None:
        self.settings = settings
        self._client = client or httpx.Client(timeout=settings.request_timeout_seconds)
        self._payment_signer = StripeSignatureSigner(settings.payment_secrets)
        self._carrier_signer = StandardWebhookSigner(settings.carrier_secrets)
        self._pending: list[threading.Timer] = []

    def payment_send(self, body: bytes) -> DeliveryResult:
        """Deliver a payment event now (blocking, with retries)."""
        return webhook_deliver(
            client=self._client,
            url=self.settings.payments_webhook_url,
            body=body,
            headers=lambda: {"Stripe-Signature": self._payment_signer.header(body)},
            max_attempts=self.settings.max_attempts,
            retry_base_seconds=self.settings.retry_base_seconds,
        )

    def carrier_send(self, body: bytes, *, message_id: str) -> DeliveryResult:
        """Deliver a carrier event now (blocking, with retries); the id stays across retries."""
        return webhook_deliver(
            client=self._client,
            url=self.settings.carrier_webhook_url,
            body=body,
            headers=lambda: self._carrier_signer.headers(body, message_id=message_id),
            max_attempts=self.settings.max_attempts,
            retry_base_seconds=self.settings.retry_base_seconds,
        )

    def in_background(self, work: Callable[[], object], *, delay_seconds: float = 0) -> None:
        """Run `work` on its own thread after `delay_seconds`: the shopper is not kept waiting."""
        timer = threading.Timer(delay_seconds, work)
        timer.daemon = True
        self._pending = [pending for pending in self._pending if pending.is_alive()]
        self._pending.append(timer)
        timer.start()

    def background_wait(self, timeout: float) -> None:
        """Wait for scheduled deliveries to finish (tests, and a graceful shutdown)."""
        for timer in list(self._pending):
            timer.join(timeout)
