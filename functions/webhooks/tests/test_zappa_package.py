"""The Lambda zip built by ``zappa package``, driven through Zappa's own ``lambda_handler``.

Each request goes in as an API Gateway REST (v1) and an HTTP API (v2) proxy event to a fresh
interpreter that sees only the unpacked zip and what the Lambda runtime provides (boto3 and
its dependencies); the answers must equal the in-process WSGI application's.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tessera_functions.app import webhook_application_create
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

# What Lambda's python3.11 runtime puts on sys.path besides the function's own code.
LAMBDA_RUNTIME_PACKAGES = [
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "dateutil",
    "six.py",
    "urllib3",
]
ZIP_BUDGET_BYTES = 15 * 1024 * 1024

RUNNER = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from handler import lambda_handler
events = json.load(sys.stdin)
print(json.dumps([lambda_handler(event, None) for event in events]))
"""


@pytest.fixture(scope="session")
def lambda_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, int]]:
    """Build the zip once with the real script, unpack it; yield (code, runtime, zip size).

    The code is unpacked two levels below the root, as Lambda's /var/task is, so that code
    which looks for folders above itself meets the same shallow path it meets on Lambda.
    """
    script = REPO_ROOT / "functions" / "scripts" / "package_lambda.py"
    spec = importlib.util.spec_from_file_location("package_lambda", script)
    assert spec is not None
    assert spec.loader is not None
    package_lambda = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(package_lambda)
    build = tmp_path_factory.mktemp("lambda")
    archive = package_lambda.lambda_zip_build("dev", build / "functions.zip", build / "build")
    code = Path(tempfile.mkdtemp(prefix="task-", dir="/tmp"))
    with zipfile.ZipFile(archive) as unpacked:
        unpacked.extractall(code)
    runtime = build / "runtime"
    runtime.mkdir()
    site_packages = Path(next(p for p in sys.path if p.endswith("site-packages")))
    for name in LAMBDA_RUNTIME_PACKAGES:
        (runtime / name).symlink_to(site_packages / name)
    yield code, runtime, archive.stat().st_size
    shutil.rmtree(code)


def lambda_invoke(
    package: tuple[Path, Path, int], events: list[dict[str, Any]], broker_url: str
) -> list[dict[str, Any]]:
    """Call ``handler.lambda_handler`` for each event in one cold interpreter."""
    code, runtime, _ = package
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "WEBHOOKS_BROKER_URL": broker_url,
        "PAYMENT_WEBHOOK_SECRETS": f"{PAYMENT_NEXT_SECRET},{PAYMENT_SECRET}",
        "CARRIER_WEBHOOK_SECRETS": f"{CARRIER_NEXT_SECRET} {CARRIER_SECRET}",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    completed = subprocess.run(
        # -I -S: no user site, no venv site-packages; only the zip and the runtime's boto3.
        [sys.executable, "-I", "-S", "-c", RUNNER, str(code), str(runtime)],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        env=environment,
        cwd=code,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    answers: list[dict[str, Any]] = json.loads(completed.stdout.splitlines()[-1])
    return answers


def rest_event(method: str, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """An API Gateway REST API (payload 1.0) proxy event, as the {proxy+} resource sends it."""
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/dev{path}",
            "stage": "dev",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "198.51.100.7", "userAgent": "tessera-tests"},
        },
        "body": body.decode() if body else None,
        "isBase64Encoded": False,
    }


def http_api_event(method: str, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event on the $default stage."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": "id.execute-api.eu-west-1.amazonaws.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "198.51.100.7",
                "userAgent": "tessera-tests",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body),
    }


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
    body = answer.get("body") or ""
    raw = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()
    return comparable(answer["statusCode"], answer["headers"], raw)


@pytest.fixture
def drained_redis(redis_url: str) -> Iterator[str]:
    queued_envelopes(redis_url)
    yield redis_url
    queued_envelopes(redis_url)


def test_the_lambda_zip_is_under_15_mb_and_holds_no_aws_sdk(
    lambda_package: tuple[Path, Path, int],
) -> None:
    code, _, size = lambda_package

    assert size < ZIP_BUDGET_BYTES
    assert (code / "handler.py").is_file()
    assert (code / "tessera_functions" / "wsgi.py").is_file()
    assert not (code / "boto3").exists()
    assert not (code / "botocore").exists()


@pytest.mark.parametrize("event_for", [rest_event, http_api_event], ids=["rest-v1", "http-api-v2"])
def test_zappas_handler_answers_every_endpoint_as_the_wsgi_app_does(
    lambda_package: tuple[Path, Path, int], drained_redis: str, event_for: Any
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

    answers = lambda_invoke(
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


@pytest.mark.parametrize("event_for", [rest_event, http_api_event], ids=["rest-v1", "http-api-v2"])
def test_zappas_handler_answers_503_with_retry_after_when_the_broker_is_down(
    lambda_package: tuple[Path, Path, int], event_for: Any
) -> None:
    dead_broker = f"redis://127.0.0.1:{closed_port()}/15"
    payment = recorded_payload("payment_intent.succeeded.json")
    headers = {"Content-Type": "application/json", "Stripe-Signature": stripe_signature(payment)}
    application = webhook_application_create(settings_for(dead_broker))
    wsgi_answers = [
        Client(application).post("/webhooks/payments", data=payment, headers=headers),
        Client(application).get("/readyz"),
    ]

    answers = lambda_invoke(
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
