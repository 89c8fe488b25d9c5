"""The receivers as a Google Cloud Functions HTTP function, served by ``functions-framework``.

The server is the framework's own (``python -m functions_framework --target webhooks``, its
gunicorn, as the Cloud Functions runtime runs it) on the embedded broker: the contract's
webhook and health operations, a signed delivery of each source queued as the monolith reads
it, refusals as problems, and an oversized delivery answered before its body is sent.
"""

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from kombu import Connection
from tessera_contract.webhooks import webhook_envelope_decode
from tessera_functions.publisher import webhook_queue
from tessera_runtime.problems.answers import PROBLEM_MEDIA_TYPE
from tessera_testsupport.webhook_contract import (
    HEALTH_TAG,
    WEBHOOKS_TAG,
    contract_case_check_served,
    contract_operations,
)
from webhook_testing import (
    CONTRACT_PATH,
    carrier_headers,
    local_server,
    recorded_payload,
    stripe_signature,
)

schema = contract_operations(CONTRACT_PATH, tag=WEBHOOKS_TAG)
health_schema = contract_operations(CONTRACT_PATH, tag=HEALTH_TAG)


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cloud-function")


@pytest.fixture(scope="module")
def cloud_function(var_dir: Path) -> Iterator[str]:
    """The function's base URL under functions-framework."""
    with local_server(var_dir, runtime="functions-framework") as base:
        yield base


def deliver(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, dict[str, object]]:
    """POST ``body``; (status, content type, decoded answer)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.headers["Content-Type"], json.load(response)
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers["Content-Type"], json.load(refused)


def queued_event_ids(var_dir: Path) -> list[str]:
    """Take every envelope off the embedded broker as the monolith's worker reads it."""
    folder = str(var_dir / "broker")
    options = {"data_folder_in": folder, "data_folder_out": folder}
    event_ids = []
    with Connection("filesystem://", transport_options=options) as connection:
        queue = webhook_queue()(connection.default_channel)
        while (message := queue.get(no_ack=True)) is not None:
            event_ids.append(webhook_envelope_decode(message.body).event_id)
    return event_ids


def answer_read(connection: socket.socket) -> tuple[list[str], bytes]:
    """One HTTP/1.1 answer off ``connection``: its header lines and its body (the server may
    send them in separate writes)."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    length = next(
        int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length:")
    )
    while len(body) < length:
        body += connection.recv(65536)
    return lines, body


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_webhook_operations_conform_to_the_contract(case, cloud_function):  # type: ignore[no-untyped-def]
    contract_case_check_served(case, cloud_function)


@health_schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_health_operations_conform_to_the_contract(case, cloud_function):  # type: ignore[no-untyped-def]
    contract_case_check_served(case, cloud_function)


def test_signed_deliveries_are_queued_and_unsigned_ones_refused(
    cloud_function: str, var_dir: Path
) -> None:
    queued_event_ids(var_dir)
    payment = recorded_payload("payment_intent.succeeded.json")
    carrier = recorded_payload("shipment.delivered.json")
    json_type = {"Content-Type": "application/json"}

    paid = deliver(
        f"{cloud_function}/webhooks/payments",
        payment,
        {**json_type, "Stripe-Signature": stripe_signature(payment)},
    )
    delivered = deliver(
        f"{cloud_function}/webhooks/carrier",
        carrier,
        {**json_type, **carrier_headers(carrier, message_id="msg_cloud_function_1")},
    )
    unsigned = deliver(f"{cloud_function}/webhooks/payments", payment, json_type)

    assert paid[0] == delivered[0] == 202
    assert paid[2]["status"] == delivered[2]["status"] == "queued"
    assert unsigned[:2] == (401, PROBLEM_MEDIA_TYPE)
    assert unsigned[2]["type"] == "/problems/signature-invalid"
    assert queued_event_ids(var_dir) == [paid[2]["event_id"], delivered[2]["event_id"]]


def test_an_oversized_delivery_is_refused_before_its_body_is_sent(cloud_function: str) -> None:
    host, port = cloud_function.removeprefix("http://").split(":")
    announced = 10 * 1024 * 1024
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        # Headers only: an answer can come back only if nothing waits for the 10 MiB.
        connection.sendall(
            b"POST /webhooks/payments HTTP/1.1\r\nHost: functions\r\n"
            b"Content-Type: application/json\r\n" + f"Content-Length: {announced}\r\n\r\n".encode()
        )
        head, body = answer_read(connection)

    assert head[0].startswith("HTTP/1.1 413 "), head
    assert f"Content-Type: {PROBLEM_MEDIA_TYPE}" in head
    assert json.loads(body)["type"] == "/problems/payload-too-large"
