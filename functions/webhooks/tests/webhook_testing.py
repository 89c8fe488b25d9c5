"""Helpers of the functions' suite: secrets, signing with the real sender libraries,
in-process calls to the WSGI application, reading the real queue, the local server.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import standardwebhooks
import stripe
from kombu import Connection
from tessera_functions.publisher import webhook_queue
from tessera_functions.settings import FunctionSettings
from tessera_testsupport import free_port
from werkzeug.test import Client, TestResponse

from scripts import components

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
    # No long polling on SQS: an empty queue answers at once rather than after 10 s.
    with Connection(broker_url, transport_options={"wait_time_seconds": 0}) as connection:
        bound = webhook_queue()(connection.default_channel)
        bound.declare()
        while (message := bound.get(no_ack=True)) is not None:
            bodies.append(message.body)
    return bodies


@contextlib.contextmanager
def local_server(
    tmp_path: Path, workers: int = 1, *, runtime: str = "local server"
) -> Iterator[str]:
    """The receivers on the embedded broker under ``tmp_path``, served by ``runtime``:
    ``local server`` (``python -m tessera_functions.serve``) or ``functions-framework`` (the
    Google Cloud Functions runtime, ``tessera_functions.cloud_function``).

    Yields the server's base URL once it answers ``/healthz``; stops it afterwards. The
    environment is this process's without OpenTelemetry or Prometheus variables, so nothing
    the caller's shell set changes what the server does.
    """
    port = closed_port()
    argv = {
        "local server": components.functions_serve(),
        "functions-framework": components.functions_cloud_function_serve(port),
    }[runtime]
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "PROMETHEUS_")) and key != "WEBHOOK_MAX_BODY_BYTES"
    }
    environment.update(
        WEBHOOKS_BIND=f"127.0.0.1:{port}",
        WEBHOOKS_WORKERS=str(workers),
        WORKERS=str(workers),  # functions-framework's gunicorn
        TESSERA_VAR_DIR=str(tmp_path),
        WEBHOOKS_BROKER_URL="filesystem://",
        PAYMENT_WEBHOOK_SECRETS=PAYMENT_SECRET,
        CARRIER_WEBHOOK_SECRETS=CARRIER_SECRET,
    )
    log = tmp_path / "server.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            argv,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as health:  # noqa: S310
                    assert health.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def closed_port() -> int:
    """A loopback port nothing listens on."""
    return free_port()


def json_body(response: TestResponse) -> dict[str, object]:
    """The response body as a dict."""
    decoded: dict[str, object] = json.loads(response.data)
    return decoded
