"""The processing hop, traced and measured: job request → API → worker → result callback.

The API (gunicorn) and one worker run as subprocesses on the machine's Redis (database 8, the
telemetry suites' own), both exporting spans over OTLP/HTTP to a collector in the test. The
job request carries the test's ``traceparent``; the worker's spans and the callback to the
"monolith" (a real HTTP receiver here) must continue that trace. The worker also serves its
job metrics on a port of its own, summed over its pool through PROMETHEUS_MULTIPROC_DIR.
"""

import os
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tessera_contract.messaging import (
    JOB_RESULT_DELIVER_TASK,
    JOB_RUN_TASK,
    PROCESSING_JOB_QUEUES,
    PROCESSING_RESULTS_QUEUE,
)
from tessera_testsupport import free_port
from tessera_testsupport.otlp import CollectedSpan, OtlpCollector, otlp_collector_running

from scripts import components

from .conftest import authorization

SERVICE_DIR = Path(__file__).resolve().parents[1]
CALLBACK_SECRET = "whsec_dGVzdC1vbmx5LWNhbGxiYWNrLXNlY3JldC0zMmJ5dGVz"
QUEUES = f"{PROCESSING_JOB_QUEUES['sales_report']},{PROCESSING_RESULTS_QUEUE}"
REPORT = {
    "kind": "sales_report",
    "subject": {"type": "sales_report", "reference": "october"},
    "input": {
        "date_from": "2026-10-01",
        "date_to": "2026-10-31",
        "currency": "EUR",
        "source_location": "exports/october.csv",
        "formats": ["csv"],
    },
}


@dataclass
class CallbackHeaders:
    """The monolith's callback endpoint, reduced to remembering each call's headers."""

    received: list[dict[str, str]] = field(default_factory=list)

    def serve(self) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@dataclass
class TracedProcessing:
    api_url: str
    metrics_url: str
    callbacks: CallbackHeaders
    collector: OtlpCollector


def _stop(process: subprocess.Popen[bytes]) -> None:
    # TERM the main process only: it stops its own children (gunicorn's workers, the pool).
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_http_ok(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, f"{process.args!r} exited with {process.returncode}"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} not ready in {timeout} s"
        time.sleep(0.1)


@pytest.fixture
def traced_processing(redis_url: str, tmp_path: Path) -> Iterator[TracedProcessing]:
    callbacks = CallbackHeaders()
    callback_server = callbacks.serve()
    api_port, metrics_port = free_port(), free_port()
    multiprocess = tmp_path / "worker-metrics"
    multiprocess.mkdir()
    exports = tmp_path / "media" / "exports"
    exports.mkdir(parents=True)
    (exports / "october.csv").write_text(
        "order_number,placed_at,currency,total_minor\n"
        "TS-00000001,2026-10-02T09:30:00+00:00,EUR,1200\n"
    )
    with otlp_collector_running() as collector:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("OTEL_", "PROMETHEUS_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="processing.settings.local",
            DJANGO_DEBUG="false",
            PROCESSING_DATABASE_URL=f"sqlite:///{tmp_path / 'processing.sqlite3'}",
            PROCESSING_MEDIA_ROOT=str(tmp_path / "media"),
            TESSERA_VAR_DIR=str(tmp_path),
            CELERY_BROKER_URL=redis_url.rsplit("/", 1)[0] + "/8",
            MONOLITH_CALLBACK_URL=f"http://127.0.0.1:{callback_server.server_port}",
            JOB_RESULT_CALLBACK_SECRETS=CALLBACK_SECRET,
            OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint,
            OTEL_BSP_SCHEDULE_DELAY="200",
        )
        subprocess.run(
            components.manage("processing", "migrate", "-v", "0"),
            env=env,
            cwd=SERVICE_DIR,
            check=True,
        )
        subprocess.run(
            components.celery("processing", "purge", "-f", "-Q", QUEUES),
            env=env,
            cwd=SERVICE_DIR,
            check=True,
            capture_output=True,
        )
        api = subprocess.Popen(
            components.gunicorn_direct("processing.wsgi", api_port, workers=1, log_level="info"),
            env=env,
            cwd=SERVICE_DIR / "src",
        )
        worker = subprocess.Popen(
            components.celery_worker(
                "processing",
                *("-Q", QUEUES, "--pool=prefork", "-c", "1", "-n", f"tracing-{os.getpid()}@%h"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"),
            ),
            env={
                **env,
                "TESSERA_WORKER_METRICS_PORT": str(metrics_port),
                "PROMETHEUS_MULTIPROC_DIR": str(multiprocess),
            },
            cwd=SERVICE_DIR,
        )
        try:
            _wait_http_ok(f"http://127.0.0.1:{api_port}/healthz", api)
            _wait_http_ok(f"http://127.0.0.1:{metrics_port}/metrics", worker)
            yield TracedProcessing(
                api_url=f"http://127.0.0.1:{api_port}",
                metrics_url=f"http://127.0.0.1:{metrics_port}/metrics",
                callbacks=callbacks,
                collector=collector,
            )
        finally:
            _stop(worker)
            _stop(api)
            callback_server.shutdown()
            callback_server.server_close()


def _job_durations(metrics_url: str) -> dict[tuple[str, str], float]:
    text = httpx.get(metrics_url).text
    return {
        (sample.labels["kind"], sample.labels["outcome"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "tessera_job_duration_seconds_count"
    }


def test_a_job_request_trace_reaches_the_worker_and_the_result_callback(
    traced_processing: TracedProcessing,
) -> None:
    trace_id, caller_span_id = secrets.token_hex(16), secrets.token_hex(8)

    created = httpx.post(
        f"{traced_processing.api_url}/api/v1/jobs",
        json=REPORT,
        headers={
            "Authorization": authorization(),
            "Idempotency-Key": f"traced-{trace_id}",
            "traceparent": f"00-{trace_id}-{caller_span_id}-01",
        },
    )
    assert created.status_code == 201, created.text

    deadline = time.monotonic() + 60
    while not traced_processing.callbacks.received:
        assert time.monotonic() < deadline, "the result callback never came"
        time.sleep(0.1)
    callback = traced_processing.callbacks.received[0]
    assert callback["traceparent"].split("-")[1] == trace_id

    def complete(spans: list[CollectedSpan]) -> bool:
        names = {(s.service, s.name) for s in spans}
        return {
            ("tessera-processing-worker", f"run/{JOB_RUN_TASK}"),
            ("tessera-processing-worker", f"run/{JOB_RESULT_DELIVER_TASK}"),
        } <= names

    spans = traced_processing.collector.spans_wait(complete, trace_id=trace_id, timeout=30)
    services = {s.service for s in spans}
    assert services == {"tessera-processing", "tessera-processing-worker"}
    api_span = next(s for s in spans if s.service == "tessera-processing" and s.kind == "server")
    assert api_span.parent_span_id == caller_span_id
    assert any(s.name == "job sales_report" for s in spans)
    # The callback's traceparent names the worker's HTTP client span: the same trace, one hop on.
    client_span_ids = {s.span_id for s in spans if s.kind == "client"}
    assert callback["traceparent"].split("-")[2] in client_span_ids

    durations = _job_durations(traced_processing.metrics_url)
    assert durations[("sales_report", "succeeded")] == 1
