"""Helpers of the functions' suite: secrets, signing with the real sender libraries,
in-process calls to the WSGI application, reading the real queue, a broker that can be
switched off.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import standardwebhooks
import stripe
from kombu import Connection
from tessera_functions.publisher import webhook_queue
from tessera_functions.settings import FunctionSettings
from werkzeug.test import Client, TestResponse

REPO_ROOT = Path(__file__).resolve().parents[3]
# The provider payloads recorded once for the whole platform (contract/tests/fixtures).
RECORDED_PAYLOADS = REPO_ROOT / "contract" / "tests" / "fixtures"
CONTRACT_PATH = REPO_ROOT / "contract" / "openapi.yaml"

PAYMENT_SECRET = "whsec_test_payments_7d1e0c9b8a6f5e4d3c2b1a09"
PAYMENT_NEXT_SECRET = "whsec_test_payments_next_a1b2c3d4e5f60718"
CARRIER_SECRET = "whsec_" + base64.b64encode(b"carrier-secret-of-32-bytes-long!").decode()
CARRIER_NEXT_SECRET = "whsec_" + base64.b64encode(b"next-carrier-secret-32-bytes-ok!").decode()


def recorded_payload(name: str) -> bytes:
    """The recorded body of one provider event, byte for byte."""
    return (RECORDED_PAYLOADS / name).read_bytes()


def stripe_signature(body: bytes, secret: str = PAYMENT_SECRET, *, at: int | None = None) -> str:
    """A Stripe-Signature header made by the stripe library itself."""
    timestamp = int(time.time()) if at is None else at
    return stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp
    )


def carrier_headers(
    body: bytes,
    secret: str = CARRIER_SECRET,
    *,
    message_id: str = "msg_0001",
    at: int | None = None,
) -> dict[str, str]:
    """The webhook-* headers made by the standardwebhooks library itself."""
    timestamp = int(time.time()) if at is None else at
    signature = standardwebhooks.Webhook(secret).sign(
        message_id, datetime.fromtimestamp(timestamp, UTC), body.decode()
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def settings_for(broker_url: str, **overrides: object) -> FunctionSettings:
    """Settings as the environment would give them, for ``broker_url``."""
    environ = {
        "WEBHOOKS_BROKER_URL": broker_url,
        "PAYMENT_WEBHOOK_SECRETS": f"{PAYMENT_NEXT_SECRET},{PAYMENT_SECRET}",
        "CARRIER_WEBHOOK_SECRETS": f"{CARRIER_NEXT_SECRET} {CARRIER_SECRET}",
        **{key: str(value) for key, value in overrides.items()},
    }
    return FunctionSettings.from_environment(environ)


def post(client: Client, path: str, body: bytes, headers: dict[str, str]) -> TestResponse:
    """POST a delivery the way a sender does (JSON content type, exact bytes)."""
    return client.post(path, data=body, headers={"Content-Type": "application/json", **headers})


def queued_envelopes(broker_url: str) -> list[bytes]:
    """Take every message off ``tessera.webhooks`` (the monolith's side, raw kombu)."""
    bodies: list[bytes] = []
    with Connection(broker_url) as connection:
        bound = webhook_queue()(connection.default_channel)
        bound.declare()
        while (message := bound.get(no_ack=True)) is not None:
            bodies.append(message.body)
    return bodies


class SwitchableBrokerProxy:
    """A TCP relay on 127.0.0.1 in front of a real broker that a test can stop and restart.

    Stopped, it refuses connections and cuts open ones: the broker is down as far as the
    application can tell, without touching the real server other suites use. In ``stall``
    mode it accepts connections and never answers: a broker that hangs. ``paused`` holds
    every byte on open connections: a broker that stops answering mid-conversation.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port: int = probe.getsockname()[1]
        probe.close()
        self.stall = False
        self.paused = False
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        for sock in [listener, *sockets]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self._sockets.append(client)
            if self.stall:
                continue
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
            with self._lock:
                self._sockets.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.paused:
                    time.sleep(0.01)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def closed_port() -> int:
    """A loopback port nothing listens on."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


def json_body(response: TestResponse) -> dict[str, object]:
    """The response body as a dict."""
    decoded: dict[str, object] = json.loads(response.data)
    return decoded
