"""The service as deployed, for the worker tests: the API under gunicorn, workers started on
demand, job results posted to a real HTTP receiver that verifies their signatures."""

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from tessera_contract.messaging import (
    PROCESSING_JOB_QUEUES,
    PROCESSING_QUEUES,
    PROCESSING_RESULTS_QUEUE,
)
from tessera_contract.signing.standard_webhooks import StandardWebhookVerifier
from tessera_testsupport import free_port

from scripts import components

from .conftest import authorization

SERVICE_DIR = Path(__file__).resolve().parents[1]
CALLBACK_SECRET = "whsec_dGVzdC1vbmx5LWNhbGxiYWNrLXNlY3JldC0zMmJ5dGVz"
# Every queue of the service, and the ones the tests start workers on by name.
QUEUES = list(PROCESSING_QUEUES)
DOCUMENTS_QUEUE = PROCESSING_JOB_QUEUES["invoice_pdf"]
REPORTS_QUEUE = PROCESSING_JOB_QUEUES["sales_report"]
RESULTS_QUEUE = PROCESSING_RESULTS_QUEUE


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

    def worker_start(
        self, queue: str, concurrency: int = 1, **extra_env: str
    ) -> subprocess.Popen[bytes]:
        name = queue.rsplit(".", 1)[-1]
        process = subprocess.Popen(
            components.celery_worker(
                "processing",
                *("-Q", queue, "-c", str(concurrency), "-n", f"{name}-{len(self.workers)}@%h"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
                *("-l", os.environ.get("TEST_WORKER_LOG_LEVEL", "WARNING")),
            ),
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
