"""The Lambda zip built by ``zappa package``, driven through Zappa's own ``lambda_handler``.

Each request goes in as an API Gateway REST (v1) and an HTTP API (v2) proxy event to a fresh
interpreter that sees only the unpacked zip and what the Lambda runtime provides (boto3 and
its dependencies); the answers must equal the in-process WSGI application's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from tessera_functions.app import webhook_application_create
from tessera_testsupport.zappa_lambda import (
    EVENT_FORMATS,
    UnpackedLambda,
    lambda_answer_body,
    lambda_invoke,
    lambda_unpacked,
    packaging_script_load,
)
from webhook_testing import (
    CARRIER_NEXT_SECRET,
    CARRIER_SECRET,
    PAYMENT_NEXT_SECRET,
    PAYMENT_SECRET,
    REPO_ROOT,
    carrier_headers,
    closed_port,
    queued_envelopes,
    recorded_payload,
    settings_for,
    stripe_signature,
)
from werkzeug.test import Client

ZIP_BUDGET_BYTES = 15 * 1024 * 1024


@pytest.fixture(scope="session")
def lambda_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UnpackedLambda]:
    """Build the zip once with the real script and unpack it as Lambda's /var/task."""
    package_lambda = packaging_script_load(
        REPO_ROOT / "functions" / "scripts" / "package_lambda.py"
    )
    build = tmp_path_factory.mktemp("lambda")
    archive = package_lambda.lambda_zip_build("dev", build / "functions.zip", build / "build")
    with lambda_unpacked(archive, build) as unpacked:
        yield unpacked


def webhooks_lambda_invoke(
    package: UnpackedLambda, events: list[dict[str, Any]], broker_url: str
) -> list[dict[str, Any]]:
    """Call Zappa's handler for each event in one cold interpreter, configured as deployed."""
    return lambda_invoke(
        package,
        events,
        {
            "WEBHOOKS_BROKER_URL": broker_url,
            "PAYMENT_WEBHOOK_SECRETS": f"{PAYMENT_NEXT_SECRET},{PAYMENT_SECRET}",
            "CARRIER_WEBHOOK_SECRETS": f"{CARRIER_NEXT_SECRET} {CARRIER_SECRET}",
            "AWS_DEFAULT_REGION": "eu-west-1",
        },
    )


def requests_for_every_endpoint() -> list[tuple[str, str, str, bytes, dict[str, str]]]:
    """(case, method, path, body, headers) for every endpoint and its answers."""
    payment = recorded_payload("payment_intent.succeeded.json")
    refund = recorded_payload("charge.refunded.json")
    unhandled_payment = recorded_payload("customer.created.json")
    carrier = recorded_payload("shipment.delivered.json")
    unhandled_carrier = recorded_payload("shipment.returned.json")
    json_type = {"Content-Type": "application/json"}
    nested = b"[" * 1000 + b"]" * 1000
    return [
        ("payment queued", "POST", "/webhooks/payments", payment,
         {**json_type, "Stripe-Signature": stripe_signature(payment)}),
        ("refund queued", "POST", "/webhooks/payments", refund,
         {**json_type, "Stripe-Signature": stripe_signature(refund)}),
        ("payment ignored", "POST", "/webhooks/payments", unhandled_payment,
         {**json_type, "Stripe-Signature": stripe_signature(unhandled_payment)}),
        ("payment unsigned", "POST", "/webhooks/payments", payment, json_type),
        ("payment not json", "POST", "/webhooks/payments", b"amount=1",
         {**json_type, "Stripe-Signature": stripe_signature(b"amount=1")}),
        ("payment too large", "POST", "/webhooks/payments", b"{" + b" " * 262144 + b"}", json_type),
        ("payment nested too deep", "POST", "/webhooks/payments", nested,
         {**json_type, "Stripe-Signature": stripe_signature(nested)}),
        ("payment as text", "POST", "/webhooks/payments", payment,
         {"Content-Type": "text/plain", "Stripe-Signature": stripe_signature(payment)}),
        ("carrier queued", "POST", "/webhooks/carrier", carrier,
         {**json_type, **carrier_headers(carrier, message_id="msg_lambda_1")}),
        ("carrier ignored", "POST", "/webhooks/carrier", unhandled_carrier,
         {**json_type, **carrier_headers(unhandled_carrier, message_id="msg_lambda_2")}),
        ("carrier wrong secret", "POST", "/webhooks/carrier", carrier,
         {**json_type, **carrier_headers(carrier, CARRIER_SECRET.replace("Y2", "Z2"))}),
        ("liveness", "GET", "/healthz", b"", {}),
        ("readiness", "GET", "/readyz", b"", {}),
        ("wrong method", "GET", "/webhooks/carrier", b"", {}),
    ]  # fmt: skip


def comparable(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """What must agree: status, the headers that carry meaning, and the body."""
    wanted = {name.lower(): value for name, value in headers.items()}
    decoded = json.loads(body)
    for check in decoded.get("checks", []):
        check["duration_ms"] = "<timing>"
    return {
        "status": status,
        "content-type": wanted.get("content-type"),
        "retry-after": wanted.get("retry-after"),
        "allow": wanted.get("allow"),
        "body": decoded,
    }


def lambda_comparable(answer: dict[str, Any]) -> dict[str, Any]:
    return comparable(answer["statusCode"], answer["headers"], lambda_answer_body(answer))


@pytest.fixture
def drained_redis(redis_url: str) -> Iterator[str]:
    queued_envelopes(redis_url)
    yield redis_url
    queued_envelopes(redis_url)


def test_the_lambda_zip_is_under_15_mb_and_holds_no_aws_sdk(
    lambda_package: UnpackedLambda,
) -> None:
    code = lambda_package.code

    assert lambda_package.zip_bytes < ZIP_BUDGET_BYTES
    assert (code / "handler.py").is_file()
    assert (code / "tessera_functions" / "wsgi.py").is_file()
    assert not (code / "boto3").exists()
    assert not (code / "botocore").exists()


@pytest.mark.parametrize("event_for", EVENT_FORMATS.values(), ids=EVENT_FORMATS.keys())
def test_zappas_handler_answers_every_endpoint_as_the_wsgi_app_does(
    lambda_package: UnpackedLambda, drained_redis: str, event_for: Any
) -> None:
    requests = requests_for_every_endpoint()
    application = webhook_application_create(settings_for(drained_redis))
    client = Client(application)
    expected = []
    for _, method, path, body, headers in requests:
        response = client.open(path, method=method, data=body, headers=headers)
        expected.append(comparable(response.status_code, dict(response.headers), response.data))
    application.publisher.close()
    queued_by_wsgi = queued_envelopes(drained_redis)

    answers = webhooks_lambda_invoke(
        lambda_package, [event_for(m, p, b, h) for _, m, p, b, h in requests], drained_redis
    )

    for (case, *_), wanted, answer in zip(requests, expected, answers, strict=True):
        assert lambda_comparable(answer) == wanted, case
    statuses = {
        case: wanted["status"] for (case, *_), wanted in zip(requests, expected, strict=True)
    }
    assert statuses == {
        "payment queued": 202, "refund queued": 202, "payment ignored": 202,
        "payment unsigned": 401, "payment not json": 400, "payment too large": 413,
        "payment nested too deep": 400, "payment as text": 415,
        "carrier queued": 202, "carrier ignored": 202, "carrier wrong secret": 401,
        "liveness": 200, "readiness": 200, "wrong method": 405,
    }  # fmt: skip
    queued_by_lambda = queued_envelopes(drained_redis)
    assert len(queued_by_wsgi) == len(queued_by_lambda) == 3


@pytest.mark.parametrize("event_for", EVENT_FORMATS.values(), ids=EVENT_FORMATS.keys())
def test_zappas_handler_answers_503_with_retry_after_when_the_broker_is_down(
    lambda_package: UnpackedLambda, event_for: Any
) -> None:
    dead_broker = f"redis://127.0.0.1:{closed_port()}/15"
    payment = recorded_payload("payment_intent.succeeded.json")
    headers = {"Content-Type": "application/json", "Stripe-Signature": stripe_signature(payment)}
    application = webhook_application_create(settings_for(dead_broker))
    wsgi_answers = [
        Client(application).post("/webhooks/payments", data=payment, headers=headers),
        Client(application).get("/readyz"),
    ]

    answers = webhooks_lambda_invoke(
        lambda_package,
        [
            event_for("POST", "/webhooks/payments", payment, headers),
            event_for("GET", "/readyz", b"", {}),
        ],
        dead_broker,
    )

    for wsgi, answer in zip(wsgi_answers, answers, strict=True):
        assert wsgi.status_code == 503
        assert lambda_comparable(answer) == comparable(503, dict(wsgi.headers), wsgi.data)
