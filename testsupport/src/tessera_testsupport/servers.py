"""Reaching the machine's real services from tests, and what to do when one is missing."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import subprocess
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

DEFAULT_URLS = {
    "postgres": "postgres://postgres@127.0.0.1:5432/postgres",
    "redis": "redis://127.0.0.1:6379/15",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
}
ENVIRONMENT = {
    "postgres": "TEST_POSTGRES_URL",
    "redis": "TEST_REDIS_URL",
    "rabbitmq": "TEST_RABBITMQ_URL",
}


def run_id() -> str:
    """This test run's name: ``TESSERA_RUN_ID`` (make sets it once for all the suites of one
    ``make test``), else this process's id. Lower-case letters, digits and ``_`` only, so it
    fits a database name as well as a vhost."""
    given = os.environ.get("TESSERA_RUN_ID", "").lower()
    return re.sub(r"[^a-z0-9_]", "_", given)[:24] or f"pid{os.getpid()}"


def run_scoped(name: str) -> str:
    """``name`` made this run's own: two runs on one machine never meet in it."""
    return f"{name}_{run_id()}"


def service_missing(reason: str) -> NoReturn:
    """Fail under CI=true, skip with the reason printed otherwise. Never returns."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service is a failure)", pytrace=False)
    pytest.skip(reason)


def service_url(kind: str) -> str:
    return os.environ.get(ENVIRONMENT[kind], DEFAULT_URLS[kind])


def reachable(url: str, *, timeout: float = 2.0) -> bool:
    """Whether something accepts TCP connections at the URL's host and port."""
    parts = urlsplit(url)
    default_ports = {"postgres": 5432, "redis": 6379, "amqp": 5672}
    port = parts.port or default_ports.get(parts.scheme, 0)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def require(kind: str) -> str:
    """The URL of a reachable real service of this kind, or fail/skip the test."""
    url = service_url(kind)
    if not reachable(url):
        service_missing(f"{kind} is not reachable at {urlsplit(url).netloc}")
    return url


_vhosts_to_delete: set[str] = set()


def rabbitmq_vhost_url(rabbitmq_url: str, vhost: str) -> str:
    """The broker URL in a vhost of this suite and this run (``vhost`` + the run's id),
    created with permissions when missing and deleted when this process exits.

    Suites, benchmarks, `make run` and the distributed run all use RabbitMQ on one machine; a
    vhost each keeps one suite from consuming, or purging, another's queues, and the run's id
    keeps two runs of the same suite apart. A URL that already names a vhost
    (TEST_RABBITMQ_URL set so) is returned as it is, and that vhost left alone.
    """
    parts = urlsplit(rabbitmq_url)
    if parts.path not in {"", "/", "//"}:
        return rabbitmq_url
    vhost = run_scoped(vhost)
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        service_missing(f"rabbitmqctl is needed to create the test vhost {vhost!r}")
    for command in (
        ["add_vhost", vhost],
        ["set_permissions", "-p", vhost, parts.username or "guest", ".*", ".*", ".*"],
    ):
        # add_vhost fails harmlessly when the vhost exists; set_permissions is idempotent.
        subprocess.run([rabbitmqctl, *command], capture_output=True, timeout=60, check=False)
    if not _vhosts_to_delete:
        atexit.register(_vhosts_delete, rabbitmqctl)
    _vhosts_to_delete.add(vhost)
    return urlunsplit(parts._replace(path=f"/{vhost}"))


def _vhosts_delete(rabbitmqctl: str) -> None:
    # At exit: the workers the tests started have stopped by now, and a vhost's queues and
    # messages go with it.
    for vhost in sorted(_vhosts_to_delete):
        subprocess.run(
            [rabbitmqctl, "delete_vhost", vhost], capture_output=True, timeout=60, check=False
        )


def free_port() -> int:
    """A loopback TCP port nothing listens on right now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
