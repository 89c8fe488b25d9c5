"""Fixtures: service tokens for callers, and a job source written into the service's storage."""

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from tessera_contract.signing.service_tokens import ServiceTokenIssuer, ServiceTokenKeyring
from tessera_testsupport import rabbitmq_vhost_url

from scripts import components

if TYPE_CHECKING:
    from .stack_testing import Stack

# The suite's own RabbitMQ vhost: it never consumes, or purges, another suite's or `make
# run`'s messages. (The suite uses no Redis; db 12 is reserved for it should it need one.)
RABBITMQ_TEST_VHOST = "tessera-processing-tests"


def keyring() -> ServiceTokenKeyring:
    return ServiceTokenKeyring.parse(settings.PROCESSING_SERVICE_TOKEN_KEYS)


def authorization(
    *, issuer: str = "monolith", audience: str = "processing", now: float | None = None
) -> str:
    return ServiceTokenIssuer(keyring(), issuer=issuer, audience=audience).authorization_header(
        now=time.time() if now is None else now
    )


@pytest.fixture
def monolith_headers() -> dict[str, str]:
    return {"Authorization": authorization()}


@pytest.fixture
def source_write(settings, tmp_path) -> Callable[[str, bytes], str]:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"

    def write(name: str, data: bytes) -> str:
        return default_storage.save(f"sources/{name}", ContentFile(data))

    return write


@pytest.fixture(scope="session")
def processing_rabbitmq_url(rabbitmq_url: str) -> str:
    """The machine's RabbitMQ, in this suite's vhost (created when missing)."""
    return rabbitmq_vhost_url(rabbitmq_url, RABBITMQ_TEST_VHOST)


@pytest.fixture
def stack_env() -> dict[str, str]:
    return {}


@pytest.fixture
def stack_broker_url(processing_rabbitmq_url: str) -> str:
    """The broker the stack's API and workers use (a test may put a proxy in between)."""
    return processing_rabbitmq_url


@pytest.fixture
def stack(stack_broker_url: str, tmp_path: Path, stack_env: dict[str, str]) -> Iterator["Stack"]:
    """The service as deployed (API under gunicorn; workers started by the test)."""
    from .stack_testing import (
        CALLBACK_SECRET,
        QUEUES,
        SERVICE_DIR,
        CallbackReceiver,
        Stack,
        free_port,
        kill_process_group,
    )

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
        "CELERY_BROKER_URL": stack_broker_url,
        "MONOLITH_CALLBACK_URL": f"http://127.0.0.1:{server.server_port}",
        "JOB_RESULT_CALLBACK_SECRETS": CALLBACK_SECRET,
        "PROCESSING_RETRY_BACKOFF_SECONDS": "0.2",
        **stack_env,
    }
    subprocess.run(
        components.manage("processing", "migrate", "-v", "0"), env=env, cwd=SERVICE_DIR, check=True
    )
    subprocess.run(
        components.celery("processing", "purge", "-f", "-Q", ",".join(QUEUES)),
        env=env,
        cwd=SERVICE_DIR,
        check=True,
        capture_output=True,
    )
    api = subprocess.Popen(
        components.gunicorn_direct("processing.wsgi", port, workers=1, log_level="warning"),
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
