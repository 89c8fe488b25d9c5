"""The local server entry point: ``python -m tessera_functions.serve`` answers on its bind."""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from kombu import Connection
from tessera_contract.webhooks import webhook_envelope_decode
from tessera_functions.publisher import webhook_queue
from webhook_testing import (
    CARRIER_SECRET,
    PAYMENT_SECRET,
    closed_port,
    recorded_payload,
    stripe_signature,
)


def test_the_local_server_serves_a_webhook_into_the_embedded_broker(tmp_path: Path) -> None:
    port = closed_port()
    environment = {
        **os.environ,
        "WEBHOOKS_BIND": f"127.0.0.1:{port}",
        "WEBHOOKS_WORKERS": "1",
        "TESSERA_VAR_DIR": str(tmp_path),
        "WEBHOOKS_BROKER_URL": "filesystem://",
        "PAYMENT_WEBHOOK_SECRETS": PAYMENT_SECRET,
        "CARRIER_WEBHOOK_SECRETS": CARRIER_SECRET,
    }
    environment.pop("WEBHOOK_MAX_BODY_BYTES", None)
    log = tmp_path / "server.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "tessera_functions.serve"],
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
        body = recorded_payload("payment_intent.succeeded.json")
        request = urllib.request.Request(  # noqa: S310 - a loopback URL built above
            f"{base}/webhooks/payments",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": stripe_signature(body),
            },
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            assert response.status == 202
    finally:
        server.terminate()
        server.wait(timeout=10)
    # Read back as the monolith does: <TESSERA_VAR_DIR>/broker, one folder for in and out.
    folder = str(tmp_path / "broker")
    options = {"data_folder_in": folder, "data_folder_out": folder}
    with Connection("filesystem://", transport_options=options) as connection:
        message = webhook_queue()(connection.default_channel).get(no_ack=True)
    assert message is not None
    assert webhook_envelope_decode(message.body).event_id == "evt_3QfK8sLkdIwHu7ix0aCy1RfM"
