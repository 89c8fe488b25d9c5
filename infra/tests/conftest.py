"""The distributed run as a fixture: scripts/run_distributed.py in a subprocess, on free ports.

`distributed_run` starts the whole loopback topology (nginx, two monolith replicas, workers,
processing, functions, sandbox) against the machine's PostgreSQL, RabbitMQ and Redis, waits
until the run reports every part ready (its run/state.json) and stops it with SIGTERM at the
end, as Ctrl-C would. Every port is a free one, so `make run` or `make distributed` may be up
meanwhile. The run's own output and each part's log are under var/distributed-test/, a
folder only its owner may enter, like the private folders many checkouts live in.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from tessera_testsupport import free_port, rabbitmq_vhost_url, service_missing

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_SCRIPT = REPO_ROOT / "scripts" / "run_distributed.py"
VAR_DIR = REPO_ROOT / "var" / "distributed-test"
# Names of the test's own: a `make distributed` left running keeps its data and queues.
VHOST = "tessera-distributed-tests"
DATABASE_PREFIX = "tessera_dist_test"
REDIS_DB = 7  # not 9, `make distributed`'s: --fresh flushes it
# Preparing (migrations, collectstatic, seeding) and starting nine processes on two shared
# cores: about 25 s when idle, more when other suites run.
START_TIMEOUT_SECONDS = 150.0
STOP_TIMEOUT_SECONDS = 60.0


def log_tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass(frozen=True)
class DistributedRun:
    """The running topology, as its state file describes it."""

    public_url: str
    headless_url: str
    state: dict[str, Any]
    output_log: Path

    def pid(self, component: str) -> int:
        pid: int = self.state["components"][component]["pid"]
        return pid

    def ready_url(self, component: str) -> str:
        url: str = self.state["components"][component]["ready_url"]
        return url

    @property
    def nginx_access_log(self) -> Path:
        return Path(self.state["nginx_access_log"])

    @property
    def nginx_error_log(self) -> Path:
        return Path(self.state["nginx_error_log"])


@pytest.fixture(scope="session")
def distributed_run(
    postgres_url: str, rabbitmq_url: str, redis_url: str
) -> Iterator[DistributedRun]:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        service_missing("nginx is not installed: run scripts/ensure_nginx.sh")
    rabbitmq_vhost_url(rabbitmq_url, VHOST)  # created here with the suites' helper
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # A checkout often lives in a folder only its owner may enter (mode 0700: many home
    # folders, every `mktemp -d`). The run's own folder, which holds the static and media
    # roots, is made so whatever the clone's folder is: nginx's workers must still serve them.
    VAR_DIR.chmod(0o700)
    state_path = VAR_DIR / "run" / "state.json"
    state_path.unlink(missing_ok=True)
    output_log = VAR_DIR / "run_distributed.log"
    ports = [free_port() for _ in range(7)]
    argv = [
        *(sys.executable, str(RUN_SCRIPT), "--var-dir", str(VAR_DIR)),
        *("--nginx-port", str(ports[0]), "--monolith-ports", f"{ports[1]},{ports[2]}"),
        *("--processing-port", str(ports[3]), "--functions-port", str(ports[4])),
        *("--sandbox-port", str(ports[5]), "--headless-port", str(ports[6])),
        *("--postgres-url", postgres_url),
        *("--rabbitmq-url", rabbitmq_url),
        *("--redis-url", urlunsplit(urlsplit(redis_url)._replace(path=f"/{REDIS_DB}"))),
        *("--vhost", VHOST, "--database-prefix", DATABASE_PREFIX, "--fresh"),
    ]
    env = {
        **os.environ,
        # The carrier's events come sooner than in the demo, so the journey stays short.
        "SANDBOX_IN_TRANSIT_DELAY_SECONDS": "1",
        "SANDBOX_DELIVERED_DELAY_SECONDS": "2",
    }
    with output_log.open("wb") as output:
        process = subprocess.Popen(
            argv, cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not state_path.exists():
            if process.poll() is not None:
                pytest.fail(
                    f"the distributed run exited with {process.returncode}:\n"
                    + log_tail(output_log),
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the distributed run was not ready within {START_TIMEOUT_SECONDS:.0f} s:\n"
                    + log_tail(output_log),
                    pytrace=False,
                )
            time.sleep(0.5)
        state = json.loads(state_path.read_text())
        yield DistributedRun(
            public_url=state["public_url"],
            headless_url=state["headless_url"],
            state=state,
            output_log=output_log,
        )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    # The run stops every part it started: nothing may be left listening on its ports.
    still_listening = [port for port in ports if _accepts(port)]
    assert still_listening == [], f"ports still served after the stop: {still_listening}"


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
