"""The local server entry point: ``python -m tessera_functions.serve`` answers on its bind."""

import urllib.request
from pathlib import Path

from kombu import Connection
from tessera_contract.webhooks import webhook_envelope_decode
from tessera_functions.publisher import webhook_queue
from webhook_testing import (
    local_server,
    recorded_payload,
    stripe_signature,
)


def test_the_local_server_serves_a_webhook_into_the_embedded_broker(tmp_path: Path) -> None:
    with local_server(tmp_path) as base:
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
    # Read back as the monolith does: <TESSERA_VAR_DIR>/broker, one folder for in and out.
    folder = str(tmp_path / "broker")
    options = {"data_folder_in": folder, "data_folder_out": folder}
    with Connection("filesystem://", transport_options=options) as connection:
        message = webhook_queue()(connection.default_channel).get(no_ack=True)
    assert message is not None
    assert webhook_envelope_decode(message.body).event_id == "evt_3QfK8sLkdIwHu7ix0aCy1RfM"
