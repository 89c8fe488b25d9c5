"""Fixtures: a verifying receiver on loopback, the sandbox's settings, sender and app."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer, make_server

import httpx
import pytest
from sandbox_receiver import CARRIER_SECRET, PAYMENT_SECRET, Receiver, SilentHandler
from tessera_sandbox.app import SandboxApp
from tessera_sandbox.delivery import WebhookSender
from tessera_sandbox.settings import SandboxSettings


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = make_server("127.0.0.1", 0, lambda e, s: app(e, s), WSGIServer, SilentHandler)
    app = Receiver(url=f"http://127.0.0.1:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(receiver: Receiver) -> SandboxSettings:
    return SandboxSettings.from_environment(
        {
            "SANDBOX_PAYMENTS_WEBHOOK_URL": f"{receiver.url}/webhooks/payments",
            "SANDBOX_CARRIER_WEBHOOK_URL": f"{receiver.url}/webhooks/carrier",
            "SANDBOX_PAYMENT_SECRETS": PAYMENT_SECRET,
            "SANDBOX_CARRIER_SECRETS": CARRIER_SECRET,
            "SANDBOX_RETRY_BASE_SECONDS": "0.01",
            "SANDBOX_IN_TRANSIT_DELAY_SECONDS": "0",
            "SANDBOX_DELIVERED_DELAY_SECONDS": "0.2",
        }
    )


@pytest.fixture
def sender(settings: SandboxSettings) -> Iterator[WebhookSender]:
    with httpx.Client(timeout=2) as client:
        sender = WebhookSender(settings, client=client)
        yield sender
        sender.background_wait(timeout=10)


@pytest.fixture
def sandbox(sender: WebhookSender) -> Iterator[httpx.Client]:
    """The sandbox app, called in-process through httpx's WSGI transport."""
    transport = httpx.WSGITransport(app=SandboxApp(sender))
    with httpx.Client(transport=transport, base_url="http://sandbox.test") as client:
        yield client
