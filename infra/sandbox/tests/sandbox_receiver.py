"""A real HTTP receiver on loopback that verifies what the sandbox sends, as the functions do."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIRequestHandler

from tessera_contract.signing import (
    StandardWebhookVerifier,
    StripeSignatureVerifier,
    standard_webhook_secret_generate,
)

PAYMENT_SECRET = "whsec_sandbox_tests_payments"
CARRIER_SECRET = standard_webhook_secret_generate()


class SilentHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Receiver:
    """Records verified deliveries; answers from `script` first (e.g. 503s), then 202."""

    url: str
    script: list[int] = field(default_factory=list)
    payments: list[bytes] = field(default_factory=list)
    carrier: list[tuple[str, bytes]] = field(default_factory=list)
    attempts: int = 0
    # Sent with every scripted 503 when set, as the functions do.
    retry_after: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        with self.lock:
            self.attempts += 1
            status = self.script.pop(0) if self.script else 202
        if status == 202:
            headers = {
                key[5:].replace("_", "-").lower(): value
                for key, value in environ.items()
                if key.startswith("HTTP_")
            }
            if environ["PATH_INFO"] == "/webhooks/payments":
                StripeSignatureVerifier([PAYMENT_SECRET]).verify(
                    body, headers.get("stripe-signature")
                )
                with self.lock:
                    self.payments.append(body)
            else:
                delivery = StandardWebhookVerifier([CARRIER_SECRET]).verify(body, headers)
                with self.lock:
                    self.carrier.append((delivery.message_id, body))
        headers_out = [("Content-Type", "application/json")]
        if status == 503 and self.retry_after is not None:
            headers_out.append(("Retry-After", self.retry_after))
        start_response(f"{status} X", headers_out)
        return [b"{}"]
