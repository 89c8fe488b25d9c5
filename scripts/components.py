"""One description of how each Tessera component starts: its port, readiness URL and command line.

`make run` (scripts/run_platform.py) starts each component as a process of its own from the
command lines built here, and so do the benchmarks (bench/) and the test fixtures that start
real processes (the repository root is on the tests' pythonpath), so a component's entry point
changes in one place. (`make distributed` runs the containers of docker-compose.yml instead.)
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

REPO_ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

# shared/DESIGN.md's fixed ports.
MONOLITH_PORT = 8000
PROCESSING_PORT = 8001
FUNCTIONS_PORT = 8002
SANDBOX_PORT = 8003
HEADLESS_PORT = 8004

DjangoProject = Literal["monolith", "processing"]
# The Django project of each component, with its manage.py and its Celery application.
MANAGE_PY = {
    "monolith": REPO_ROOT / "monolith" / "manage.py",
    "processing": REPO_ROOT / "services" / "processing" / "manage.py",
}


def ports_taken(wanted: Mapping[str, int]) -> list[str]:
    """The ``"port (name)"`` of each wanted loopback port something else already holds.

    Checked before anything starts: a readiness probe would otherwise take another run's
    server (often `make run`'s) on that port for ours.
    """
    taken = []
    for name, port in wanted.items():
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                taken.append(f"{port} ({name})")
    return taken


def ready_url(port: int) -> str:
    """Where a component on this loopback port answers once its dependencies do."""
    return f"http://127.0.0.1:{port}/readyz"


def manage(project: DjangoProject, *args: str) -> list[str]:
    """`manage.py <args>` of the monolith or the processing service."""
    return [PYTHON, str(MANAGE_PY[project]), *args]


def runserver(project: DjangoProject, port: int) -> list[str]:
    """Django's development server, without the reloader (nothing restarts a part of a run)."""
    return manage(project, "runserver", f"127.0.0.1:{port}", "--noreload")


def gunicorn_direct(wsgi_application: str, port: int, *, workers: int, log_level: str) -> list[str]:
    """A WSGI server on loopback with nothing in front, as the benchmarks and tests place it."""
    return [
        *(PYTHON, "-m", "gunicorn", wsgi_application),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", log_level),
    ]


def celery(project: DjangoProject, *args: str) -> list[str]:
    """The `celery` command of the project's application (`purge`, `call`, ...)."""
    return [PYTHON, "-m", "celery", "-A", project, *args]


def celery_worker(project: DjangoProject, *options: str) -> list[str]:
    """A Celery worker of the project's application (queues, concurrency: ``options``)."""
    return celery(project, "worker", *options)


def functions_serve() -> list[str]:
    """The webhook functions' WSGI app; it binds WEBHOOKS_BIND (default 127.0.0.1:8002)."""
    return [PYTHON, "-m", "tessera_functions.serve"]


CLOUD_FUNCTION_SOURCE = (
    REPO_ROOT / "functions" / "webhooks" / "src" / "tessera_functions" / "cloud_function.py"
)


def functions_cloud_function_serve(port: int) -> list[str]:
    """The same receivers as a Google Cloud Functions HTTP function, under functions-framework
    (its gunicorn, as the Cloud Functions runtime serves it)."""
    return [
        PYTHON, "-m", "functions_framework", "--target", "webhooks",
        "--source", str(CLOUD_FUNCTION_SOURCE), "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip


def sandbox_serve(port: int) -> list[str]:
    """The payment provider and carrier sandbox."""
    return [PYTHON, "-m", "tessera_sandbox", "serve", "--port", str(port)]
