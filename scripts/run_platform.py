"""`make run`: prepare the embedded default and start every part of Tessera on this machine.

Steps: migrate the SQLite database, seed demo data, start each component, wait until each
answers its /readyz, print the URLs and demo logins, then wait. Ctrl-C stops everything; if
one part dies, the others are stopped too, so a half-running platform never lingers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
READY_TIMEOUT_SECONDS = 60
# Celery's warm shutdown finishes the tasks in hand; on the embedded broker its loop polls,
# so it needs about ten seconds. Only after this long is a component killed.
STOP_TIMEOUT_SECONDS = 30


@dataclass
class Component:
    """One long-running process of the platform and where it answers."""

    name: str
    argv: list[str]
    ready_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None


def monolith_manage(*args: str) -> list[str]:
    return [PYTHON, str(REPO_ROOT / "monolith" / "manage.py"), *args]


def processing_manage(*args: str) -> list[str]:
    return [PYTHON, str(REPO_ROOT / "services" / "processing" / "manage.py"), *args]


# The processing service owns its database: never the monolith's DATABASE_URL.
PROCESSING_ENV = {
    "DATABASE_URL": os.environ.get(
        "PROCESSING_DATABASE_URL", f"sqlite:///{REPO_ROOT / 'var' / 'processing.sqlite3'}"
    ),
}
PROCESSING_QUEUES = (
    "tessera.processing.renditions,tessera.processing.documents,"
    "tessera.processing.reports,tessera.processing.job-results"
)


# The embedded run's webhook secrets: the sandbox signs with them, the functions verify with
# them. Public on purpose, for the laptop only; real environment variables win.
DEMO_WEBHOOK_SECRETS = {
    "PAYMENT_WEBHOOK_SECRETS": "whsec_tessera_local_payments_demo",
    "CARRIER_WEBHOOK_SECRETS": "whsec_dGVzc2VyYS1sb2NhbC1jYXJyaWVyLWRlbW8tc2VjcmV0",
}


def components() -> list[Component]:
    return [
        Component(
            name="monolith",
            argv=monolith_manage("runserver", "127.0.0.1:8000", "--noreload"),
            ready_url="http://127.0.0.1:8000/readyz",
        ),
        Component(
            name="webhook functions",
            argv=[PYTHON, "-m", "tessera_functions.serve"],
            ready_url="http://127.0.0.1:8002/readyz",
        ),
        Component(
            # Applies queued webhook envelopes (the inbox consumer step) and order tasks.
            name="monolith worker",
            argv=[PYTHON, "-m", "celery", "-A", "monolith", "worker", "--loglevel", "INFO"],
        ),
        Component(
            name="processing API",
            argv=processing_manage("runserver", "127.0.0.1:8001", "--noreload"),
            ready_url="http://127.0.0.1:8001/readyz",
            env=PROCESSING_ENV,
        ),
        Component(
            # Embedded: one worker for every queue; deployed, one worker per queue.
            name="processing worker",
            argv=[
                PYTHON,
                "-m",
                "celery",
                "-A",
                "processing",
                "worker",
                "-Q",
                PROCESSING_QUEUES,
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
            ],
            env=PROCESSING_ENV,
        ),
        Component(
            name="provider and carrier sandbox",
            argv=[PYTHON, "-m", "tessera_sandbox", "serve", "--port", "8003"],
            ready_url="http://127.0.0.1:8003/readyz",
            # The sandbox signs with exactly the secrets the webhook functions verify with.
            env={
                "SANDBOX_PAYMENT_SECRETS": os.environ.get("PAYMENT_WEBHOOK_SECRETS", ""),
                "SANDBOX_CARRIER_SECRETS": os.environ.get("CARRIER_WEBHOOK_SECRETS", ""),
            },
        ),
    ]


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def prepare() -> None:
    """Create the runtime folders, migrate and seed; safe to repeat on every start."""
    for folder in ("var", "var/media", "var/broker"):
        (REPO_ROOT / folder).mkdir(parents=True, exist_ok=True)
    step("Migrating the monolith's database")
    subprocess.run(monolith_manage("migrate", "--no-input", "-v", "0"), check=True)
    step("Migrating the processing service's database")
    subprocess.run(
        processing_manage("migrate", "--no-input", "-v", "0"),
        check=True,
        env={**os.environ, **PROCESSING_ENV},
    )
    step("Seeding demo data")
    subprocess.run(monolith_manage("seed_demo"), check=True)


def start(component: Component) -> None:
    step(f"Starting {component.name}")
    component.process = subprocess.Popen(
        component.argv,
        env={**os.environ, **component.env},
        cwd=REPO_ROOT,
        start_new_session=True,  # its own process group, so stopping reaches its children
    )


def wait_until_ready(component: Component) -> None:
    if component.ready_url is None:
        return
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        exit_code = component.process.poll() if component.process else None
        if exit_code is not None:
            raise RuntimeError(f"{component.name} exited with code {exit_code}")
        try:
            with urllib.request.urlopen(component.ready_url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{component.name} was not ready within {READY_TIMEOUT_SECONDS}s")


def stop(running: list[Component]) -> None:
    # TERM to each main process only: it stops its own children (Celery's pool, gunicorn's
    # workers) in order. Signalling the whole group kills pool children mid-task, and
    # billiard's exit handler then waits forever on a lock a dead child held.
    for component in running:
        if component.process and component.process.poll() is None:
            component.process.send_signal(signal.SIGTERM)
    waiting = [c.name for c in running if c.process and c.process.poll() is None]
    if waiting:
        print(f"Waiting for {', '.join(waiting)} to finish…", flush=True)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for component in running:
        if component.process is None:
            continue
        try:
            component.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(component.process.pid, signal.SIGKILL)
            component.process.wait()


def banner() -> str:
    from monolith.demo.services import DEMO_SHOPPER, DEMO_STAFF

    return "\n".join(
        [
            "",
            "Tessera is running on embedded defaults (SQLite, local files).",
            "  Shop           http://127.0.0.1:8000/",
            "  Admin          http://127.0.0.1:8000/admin/",
            "  Storefront API http://127.0.0.1:8000/api/v1/products",
            "  Processing     http://127.0.0.1:8001/healthz",
            "  Webhooks       http://127.0.0.1:8002/webhooks/payments  /webhooks/carrier",
            "  Sandbox        http://127.0.0.1:8003/ (payment provider and carrier)",
            "  Health         /healthz and /readyz on every port",
            f"  Shopper login  {DEMO_SHOPPER[0]} / {DEMO_SHOPPER[2]}",
            f"  Staff login    {DEMO_STAFF[0]} / {DEMO_STAFF[2]}",
            "Press Ctrl-C to stop everything.",
            "",
        ]
    )


def supervise(running: list[Component]) -> int:
    """Block until Ctrl-C (exit 0) or until a component dies (exit 1)."""
    while True:
        for component in running:
            code = component.process.poll() if component.process else None
            if code is not None:
                print(f"{component.name} stopped unexpectedly (exit {code}); stopping the rest.")
                return 1
        time.sleep(0.5)


def main() -> int:
    for name, value in DEMO_WEBHOOK_SECRETS.items():
        os.environ.setdefault(name, value)
    prepare()
    running: list[Component] = []
    try:
        for component in components():
            start(component)
            running.append(component)
            wait_until_ready(component)
        print(banner(), flush=True)
        return supervise(running)
    except KeyboardInterrupt:
        print("\nStopping Tessera…", flush=True)
        return 0
    except RuntimeError as error:
        print(f"Tessera could not start: {error}", file=sys.stderr)
        return 1
    finally:
        stop(running)


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings.local")
    django.setup()
    sys.exit(main())
