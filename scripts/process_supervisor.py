"""Start, watch and stop the long-running processes of a Tessera run on this machine.

Used by `make run` (scripts/run_platform.py): it starts its components in order, waits until
each answers its readiness URL, supervises them and stops them all, whatever ended the run.
(`make distributed` leaves all of this to a container engine: scripts/container_stack.py.)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[1]
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
    # Where its output goes; None keeps it on the terminal.
    log_path: Path | None = None
    # Members of one group are interchangeable replicas: losing one is survivable (the load
    # balancer serves from the others), losing the last one is not.
    group: str | None = None


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


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


def _stop_requested(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def stop_signals_handle() -> None:
    """Make SIGTERM (a test, systemd, `kill`) and a closed terminal stop the run as Ctrl-C does.

    SIGINT too: a shell starting the run in the background ignores it, and Python keeps an
    ignored SIGINT ignored, so `kill -INT` would otherwise do nothing.
    """
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _stop_requested)


def stop_signals_ignore() -> None:
    """Called once stopping has begun: another signal must not cut the stop short."""
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, signal.SIG_IGN)


def start(component: Component) -> None:
    step(f"Starting {component.name}")
    output: IO[bytes] | None = None
    if component.log_path is not None:
        component.log_path.parent.mkdir(parents=True, exist_ok=True)
        output = component.log_path.open("ab")
    try:
        component.process = subprocess.Popen(
            component.argv,
            env={**os.environ, **component.env},
            cwd=REPO_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
            start_new_session=True,  # its own process group, so stopping reaches its children
        )
    finally:
        if output is not None:
            output.close()  # the child holds its own copy of the descriptor


def wait_until_ready(component: Component, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    if component.ready_url is None:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        exit_code = component.process.poll() if component.process else None
        if exit_code is not None:
            where = f" (see {component.log_path})" if component.log_path else ""
            raise RuntimeError(f"{component.name} exited with code {exit_code}{where}")
        try:
            with urllib.request.urlopen(component.ready_url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{component.name} was not ready within {timeout:.0f}s")


def stop(running: Sequence[Component]) -> None:
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


def supervise(running: Sequence[Component]) -> int:
    """Block until Ctrl-C (exit 0) or until a component dies (exit 1).

    A replica (a component with a group) may die while another of its group still runs: that
    is reported once and the run goes on, as it would behind the load balancer in deployment.
    """
    reported: set[int] = set()
    while True:
        for component in running:
            code = component.process.poll() if component.process else None
            if code is None or id(component) in reported:
                continue
            survivors = [
                other.name
                for other in running
                if component.group is not None
                and other.group == component.group
                and other.process is not None
                and other.process.poll() is None
            ]
            if not survivors:
                print(f"{component.name} stopped unexpectedly (exit {code}); stopping the rest.")
                return 1
            reported.add(id(component))
            print(
                f"{component.name} stopped (exit {code}); still served by {', '.join(survivors)}.",
                flush=True,
            )
        time.sleep(0.5)
