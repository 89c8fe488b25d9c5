"""Real workers on the machine's RabbitMQ: a SIGKILLed worker's job completes exactly once, and a
poison job ends dead-lettered after N attempts while the other queues keep flowing.

Everything runs as it does in production: the API under gunicorn, one worker per queue, the
job results posted to a real HTTP receiver that verifies their Standard Webhooks signatures.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from tessera_contract.signing.standard_webhooks import StandardWebhookVerifier

from .conftest import authorization

SERVICE_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CALLBACK_SECRET = "whsec_dGVzdC1vbmx5LWNhbGxiYWNrLXNlY3JldC0zMmJ5dGVz"
QUEUES = [
    "tessera.processing.renditions",
    "tessera.processing.documents",
    "tessera.processing.reports",
    "tessera.processing.job-results",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class CallbackReceiver:
    """The monolith's job-result endpoint, as a real server: verifies, then records."""

    deliveries: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0

    def wait_for(self, count: int, timeout: float = 15) -> bool:
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(self.deliveries) >= count

    def serve(self) -> ThreadingHTTPServer:
        verifier = StandardWebhookVerifier([CALLBACK_SECRET])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    delivery = verifier.verify(body, dict(self.headers.items()))
                except Exception:
                    receiver.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                receiver.deliveries.append({"id": delivery.message_id, **json.loads(body)})
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@dataclass
class Stack:
    env: dict[str, str]
    api_url: str
    receiver: CallbackReceiver
    media_root: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def worker_start(self, queue: str, **extra_env: str) -> subprocess.Popen[bytes]:
        name = queue.rsplit(".", 1)[-1]
        process = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "processing",
                "worker",
                "-Q",
                queue,
                "-c",
                "1",
                "-n",
                f"{name}-{len(self.workers)}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                os.environ.get("TEST_WORKER_LOG_LEVEL", "WARNING"),
            ],
            env={**self.env, **extra_env},
            cwd=SERVICE_DIR,
            start_new_session=True,
        )
        self.workers.append(process)
        return process

    def job_create(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        response = httpx.post(
            f"{self.api_url}/api/v1/jobs",
            json=body,
            headers={"Authorization": authorization(), "Idempotency-Key": key},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def job_get(self, job_id: str) -> dict[str, Any]:
        return dict(
            httpx.get(
                f"{self.api_url}/api/v1/jobs/{job_id}", headers={"Authorization": authorization()}
            ).json()
        )

    def job_wait(
        self, job_id: str, until: Callable[[dict[str, Any]], bool], timeout: float = 60
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job_get(job_id)
            if until(job):
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} never reached the state; last seen {job}")


def kill_process_group(process: subprocess.Popen[bytes]) -> None:
    # The whole worker, pool children included, as the kernel's OOM killer or a node loss would.
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture
def stack_env() -> dict[str, str]:
    return {}


@pytest.fixture
def stack(rabbitmq_url: str, tmp_path: Path, stack_env: dict[str, str]) -> Iterator[Stack]:
    receiver = CallbackReceiver()
    server = receiver.serve()
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "processing.settings.local",
        "DJANGO_DEBUG": "false",
        "PROCESSING_DATABASE_URL": f"sqlite:///{tmp_path / 'processing.sqlite3'}",
        "PROCESSING_MEDIA_ROOT": str(tmp_path / "media"),
        "TESSERA_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": rabbitmq_url,
        "MONOLITH_CALLBACK_URL": f"http://127.0.0.1:{server.server_port}",
        "JOB_RESULT_CALLBACK_SECRETS": CALLBACK_SECRET,
        "PROCESSING_RETRY_BACKOFF_SECONDS": "0.2",
        **stack_env,
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], env=env, cwd=SERVICE_DIR, check=True
    )
    subprocess.run(
        [str(BIN / "celery"), "-A", "processing", "purge", "-f", "-Q", ",".join(QUEUES)],
        env=env,
        cwd=SERVICE_DIR,
        check=True,
        capture_output=True,
    )
    api = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "processing.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=SERVICE_DIR / "src",
        start_new_session=True,
    )
    stack = Stack(
        env=env,
        api_url=f"http://127.0.0.1:{port}",
        receiver=receiver,
        media_root=tmp_path / "media",
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{stack.api_url}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        yield stack
    finally:
        for process in [api, *stack.workers]:
            if process.poll() is None:
                kill_process_group(process)
        server.shutdown()
        server.server_close()


def orders_export(stack: Stack, name: str, rows: int) -> str:
    folder = stack.media_root / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w") as export:
        export.write("order_number,placed_at,currency,total_minor\n")
        for number in range(rows):
            day = 1 + number % 28
            export.write(f"TS-{number:08d},2026-10-{day:02d}T09:30:00+00:00,EUR,{number % 9000}\n")
    return f"exports/{name}"


def report_request(location: str) -> dict[str, Any]:
    return {
        "kind": "sales_report",
        "subject": {"type": "sales_report", "reference": "october"},
        "input": {
            "date_from": "2026-10-01",
            "date_to": "2026-10-31",
            "currency": "EUR",
            "source_location": location,
            "formats": ["csv"],
        },
    }


def test_a_job_whose_worker_is_killed_completes_exactly_once_after_restart(stack: Stack) -> None:
    job = stack.job_create(
        report_request(orders_export(stack, "big.csv", 1_500_000)), key="report-oct"
    )
    stack.worker_start(QUEUES[3])
    worker = stack.worker_start(QUEUES[2])
    stack.job_wait(job["job_id"], lambda seen: seen["status"] == "running")
    time.sleep(0.5)
    kill_process_group(worker)
    assert stack.job_get(job["job_id"])["status"] == "running"  # nobody finished it

    stack.worker_start(QUEUES[2])
    done = stack.job_wait(
        job["job_id"], lambda seen: seen["status"] in {"succeeded", "failed", "dead_lettered"}
    )

    assert done["status"] == "succeeded"
    assert done["attempts"] == 2
    assert [location["name"] for location in done["result_locations"]] == [
        "sales-20261001-20261031.csv"
    ]
    assert sorted(p.name for p in (stack.media_root / "results" / job["job_id"]).iterdir()) == [
        "sales-20261001-20261031.csv"
    ]
    assert stack.receiver.wait_for(1)
    time.sleep(1)  # a second, duplicate completion would be delivered by now
    assert [(d["job_id"], d["status"]) for d in stack.receiver.deliveries] == [
        (job["job_id"], "succeeded")
    ]
    assert stack.receiver.refused == 0


INVOICE = {
    "kind": "invoice_pdf",
    "subject": {"type": "order", "reference": "TS-2026-000001"},
    "input": {
        "order_number": "TS-2026-000001",
        "issued_at": "2026-11-23T10:00:00Z",
        "currency": "EUR",
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "billing_address": {
            "line1": "1 Road",
            "city": "Paris",
            "postal_code": "75001",
            "country_code": "FR",
        },
        "lines": [
            {
                "sku": "MUG-1",
                "description": "Mug",
                "quantity": 1,
                "unit_price_minor": 1000,
                "line_total_minor": 1000,
            }
        ],
        "totals": {
            "subtotal_minor": 1000,
            "shipping_minor": 0,
            "tax_minor": 200,
            "total_minor": 1200,
        },
    },
}


@pytest.mark.parametrize(
    # Reports get a 1 s soft limit here, so a big export is a job that can never finish.
    "stack_env",
    [{"PROCESSING_SOFT_TIME_LIMITS": "sales_report=1", "PROCESSING_TIME_LIMITS": "sales_report=3"}],
)
def test_a_poison_job_is_dead_lettered_after_n_attempts_while_other_queues_flow(
    stack: Stack,
) -> None:
    stack.worker_start(QUEUES[2])
    stack.worker_start(f"{QUEUES[1]},{QUEUES[3]}")
    poison = stack.job_create(
        report_request(orders_export(stack, "huge.csv", 2_000_000)), key="poison"
    )
    stack.job_wait(poison["job_id"], lambda seen: seen["attempts"] >= 1)
    invoice = stack.job_create(INVOICE, key="invoice-1")

    invoiced = stack.job_wait(
        invoice["job_id"], lambda seen: seen["status"] == "succeeded", timeout=20
    )
    dead = stack.job_wait(poison["job_id"], lambda seen: seen["status"] == "dead_lettered")

    assert invoiced["finished_at"] < dead["finished_at"]  # the documents queue did not wait
    assert dead["attempts"] == dead["max_attempts"] == 3
    assert dead["error"]["code"] == "processing_crashed"
    expected = {(invoice["job_id"], "succeeded"), (poison["job_id"], "dead_lettered")}
    assert stack.receiver.wait_for(len(expected))
    assert {(d["job_id"], d["status"]) for d in stack.receiver.deliveries} == expected
