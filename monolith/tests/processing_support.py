"""Helpers for the processing-jobs tests: signed job results, and the real processing service
(its API and a worker) as subprocesses on a temporary SQLite database and filesystem broker."""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks import Webhook
from tessera_contract.messaging import PROCESSING_QUEUES
from tessera_contract.models.base import JobError, ResultLocation, SubjectReference
from tessera_contract.models.codec import payload_encode
from tessera_contract.models.jobs import JobResult
from tessera_testsupport import free_port

from scripts import components

REPO_ROOT = Path(__file__).resolve().parents[2]
# Test-only secrets: two callback secrets (a rotation in progress) and one service-token key.
CALLBACK_SECRET = "whsec_" + base64.b64encode(b"monolith-tests-callback-secret-1").decode()
CALLBACK_SECRET_OLD = "whsec_" + base64.b64encode(b"monolith-tests-callback-secret-0").decode()
TOKEN_KEYS = "tests:monolith-tests-service-token-key-0123456789"


def job_result_body(
    *,
    job_id: uuid.UUID | None,
    kind: str = "invoice_pdf",
    subject: tuple[str, str] = ("order", "TS-ABC123"),
    status: str = "succeeded",
    locations: list[ResultLocation] | None = None,
    error: JobError | None = None,
) -> bytes:
    """A JobResult as processing encodes it."""
    assert job_id is not None
    return payload_encode(
        JobResult(
            job_id=job_id,
            kind=kind,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            subject=SubjectReference(type=subject[0], reference=subject[1]),  # type: ignore[arg-type]
            attempts=1,
            finished_at=datetime.now(UTC),
            result_locations=locations or [],
            error=error,
        )
    )


def signed_headers(
    body: bytes,
    *,
    message_id: str,
    secret: str = CALLBACK_SECRET,
    timestamp: datetime | None = None,
) -> dict[str, str]:
    """The webhook-* headers, made by the reference `standardwebhooks` library."""
    moment = timestamp or datetime.now(UTC)
    signature = Webhook(secret).sign(message_id, moment, body.decode())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }


def wait_for(check: Callable[[], Any], *, timeout: float, what: str, every: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = check()
        if outcome:
            return outcome
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


@dataclass
class ProcessingService:
    url: str
    logs: Path

    def log_text(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.logs.glob("*.log"))
        )


def processing_environment(*, workdir: Path, media_root: Path, callback_url: str) -> dict[str, str]:
    """The processing service's environment: its own SQLite database and filesystem broker
    under ``workdir``, ``media_root`` shared with the monolith, results to ``callback_url``."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "processing.settings.local",
        "PROCESSING_DATABASE_URL": f"sqlite:///{workdir / 'processing.sqlite3'}",
        "TESSERA_VAR_DIR": str(workdir),
        "PROCESSING_MEDIA_ROOT": str(media_root),
        "CELERY_BROKER_URL": "filesystem://",
        "SERVICE_TOKEN_KEYS": TOKEN_KEYS,
        "JOB_RESULT_CALLBACK_SECRETS": CALLBACK_SECRET,
        "MONOLITH_CALLBACK_URL": callback_url,
        "PROCESSING_OUTBOX_RELAY_INTERVAL_SECONDS": "0.5",
        "PROCESSING_OUTBOX_GRACE_SECONDS": "1",
    }
    environment.pop("DATABASE_URL", None)
    return environment


def processing_migrate_start(environment: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start migrating the processing database (it takes seconds: start it early)."""
    Path(environment["TESSERA_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        components.manage("processing", "migrate", "--no-input", "-v", "0"), env=environment
    )


@contextlib.contextmanager
def processing_service_running(
    *,
    workdir: Path,
    media_root: Path,
    callback_url: str,
    port: int | None = None,
    migrated: bool = False,
) -> Iterator[ProcessingService]:
    """The processing API (runserver, on ``port`` or a free one) and one worker for every
    queue (see processing_environment); ``migrated`` when processing_migrate_start ran."""
    environment = processing_environment(
        workdir=workdir, media_root=media_root, callback_url=callback_url
    )
    port = port or free_port()
    if not migrated:
        assert processing_migrate_start(environment).wait(timeout=120) == 0
    queues = ",".join(PROCESSING_QUEUES)
    commands = {
        "api": components.runserver("processing", port),
        "worker": components.celery_worker(
            "processing",
            *("-Q", queues, "--concurrency", "2", "--loglevel", "INFO"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ),
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, argv in commands.items():
            with (workdir / f"{name}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        argv,
                        env=environment,
                        cwd=REPO_ROOT / "services" / "processing" / "src",
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        service = ProcessingService(url=f"http://127.0.0.1:{port}", logs=workdir)

        def api_ready() -> bool:
            try:
                return httpx.get(f"{service.url}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(api_ready, timeout=30, what="the processing API")
        yield service
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
