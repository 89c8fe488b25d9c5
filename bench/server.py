"""Serving the site under test: gunicorn on a free loopback port, stopped whatever happens."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

HOST = "127.0.0.1"
POLL_INTERVAL_S = 0.2
STOP_GRACE_S = 10.0


class ServerError(RuntimeError):
    """The server did not start, did not become ready, or answered a check wrongly."""


@dataclass(frozen=True)
class Response:
    """A response read without following redirects, so a redirect is seen as one."""

    status: int
    body: bytes
    # Header names in lower case.
    headers: dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def http_get(
    port: int, path: str, *, timeout_s: float = 10.0, headers: dict[str, str] | None = None
) -> Response:
    """GET `path` from the server on `port`, with `headers` if given."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return Response(
            status=response.status,
            body=response.read(),
            headers={name.lower(): value for name, value in response.getheaders()},
        )
    finally:
        connection.close()


def manage(environment: dict[str, str], *arguments: str) -> str:
    """Run a monolith management command with this environment; its output, or a failure that
    shows what it printed."""
    from scripts import components

    completed = subprocess.run(
        components.manage("monolith", *arguments),
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise ServerError(
            f"manage.py {' '.join(arguments)} failed with {completed.returncode}:\n"
            f"{completed.stdout}{completed.stderr}"
        )
    return completed.stdout


def log_tail(log_path: Path, lines: int = 40) -> str:
    """The last lines of the server's log, to explain a failure."""
    if not log_path.exists():
        return "(no server log)"
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


class Served(Protocol):
    """A server gunicorn_serving can start: its command line for a port, environment, log."""

    @property
    def environment(self) -> dict[str, str]: ...

    @property
    def log_path(self) -> Path: ...

    def command(self, port: int) -> list[str]: ...


@dataclass(frozen=True)
class Gunicorn:
    """How to run gunicorn for one benchmark."""

    wsgi_app: str
    workers: int
    environment: dict[str, str]
    log_path: Path

    def command(self, port: int) -> list[str]:
        """Sync workers on loopback; no access log, so logging is not what gets measured."""
        return [
            sys.executable,
            "-m",
            "gunicorn",
            self.wsgi_app,
            f"--bind={HOST}:{port}",
            f"--workers={self.workers}",
            "--worker-class=sync",
            "--error-logfile=-",
            "--log-level=warning",
        ]


@contextmanager
def gunicorn_serving(
    server: Served, *, ready_path: str, ready_timeout_s: float, port: int | None = None
) -> Iterator[int]:
    """Start gunicorn, wait until `ready_path` answers 200, yield the port, then stop it.

    It listens on `port` when given (when another server must know it beforehand), else on
    a free one.
    """
    port = port or free_port()
    with server.log_path.open("ab") as log:
        # A session of its own: Ctrl-C reaches only the harness, which then stops the
        # whole process group (arbiter and workers) itself.
        process = subprocess.Popen(
            server.command(port),
            env=server.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        ready_wait(process, port, path=ready_path, timeout_s=ready_timeout_s, log=server.log_path)
        yield port
    finally:
        process_group_stop(process)


def ready_wait(
    process: subprocess.Popen[bytes], port: int, *, path: str, timeout_s: float, log: Path
) -> None:
    """Poll `path` until it answers 200; fail if the server exits or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    last_problem = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"gunicorn exited with {process.returncode}:\n{log_tail(log)}")
        try:
            status = http_get(port, path, timeout_s=2.0).status
        except OSError as error:
            last_problem = str(error)
        else:
            if status == 200:
                return
            last_problem = f"HTTP {status}"
        time.sleep(POLL_INTERVAL_S)
    raise ServerError(
        f"{path} not ready after {timeout_s:.0f} s ({last_problem}):\n{log_tail(log)}"
    )


def process_group_stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group (gunicorn's graceful stop), SIGKILL what lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # Workers left behind by an arbiter that died share its process group.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
