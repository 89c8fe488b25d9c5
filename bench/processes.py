"""The platform's processes as the benchmarks run them: started in a session of their own with
their output in the run's work folder, waited for, always stopped, and found again in /proc."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import server
from bench.progress import BenchmarkFailure

REPO_ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def process_running(
    name: str, argv: list[str], environment: dict[str, str], *, workdir: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess in a session of its own, logged to ``workdir/<name>.log``, always stopped."""
    log_path = workdir / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            argv,
            env=environment,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        server.process_group_stop(process)


def wait_for(
    condition: Callable[[], bool],
    *,
    timeout_s: float,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    """Poll ``condition`` until it holds; fail with the end of ``log`` if ``process`` exits
    first or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = server.log_tail(log) if log else ""
            raise BenchmarkFailure(f"{what}: the process exited with {process.returncode}\n{tail}")
        if condition():
            return
        time.sleep(0.2)
    tail = server.log_tail(log) if log else ""
    raise BenchmarkFailure(f"{what}: not reached within {timeout_s:.0f} s\n{tail}")


def http_status(port: int, path: str) -> int | None:
    """The status of GET ``path`` on the loopback ``port``; None while nothing answers."""
    try:
        return server.http_get(port, path, timeout_s=2.0).status
    except OSError:
        return None


def process_tree(root: int) -> list[int]:
    """`root` and every process descended from it (gunicorn's workers, Celery's pool)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree
