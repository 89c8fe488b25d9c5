"""`make run`, as a developer starts it, in each placement: every part ready, the demo loop works.

`make run PLACEMENT=hybrid|monolith` runs on its embedded defaults (SQLite, filesystem broker)
in a folder of its own (TESSERA_VAR_DIR, one per test), with nothing of this shell's settings.
Its banner (the URLs and logins) is the last thing it prints once every part is ready: then
exactly the placement's ports answer /readyz, and a guest adds a product to the cart → checks
out → presses Pay on the sandbox's page → the order turns *paid* by the signed webhook → its
invoice link serves a PDF. Every line printed after the banner names the part that wrote it.
Ctrl-C (SIGINT to make's process group, as a terminal sends it) must stop every part.

make run's ports are fixed (8000-8004): when they are taken (a `make run` is up) the test
skips outside CI and fails in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx
import pytest
from tessera_testsupport import service_missing
from tessera_testsupport.shop_http import csrf_token, guest_checks_out, sandbox_pays

from scripts.components import (
    FUNCTIONS_PORT,
    HEADLESS_PORT,
    MONOLITH_PORT,
    PROCESSING_PORT,
    SANDBOX_PORT,
    ports_taken,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
PORTS = {
    "monolith": MONOLITH_PORT,
    "processing API": PROCESSING_PORT,
    "webhook functions": FUNCTIONS_PORT,
    "sandbox": SANDBOX_PORT,
    "headless storefront": HEADLESS_PORT,
}
# What answers in each placement; the rest of PORTS must not.
RUNNING = {
    "hybrid": set(PORTS),
    "monolith": {"monolith", "sandbox", "headless storefront"},
}
BANNER_START = "Tessera is running"
BANNER_END = "Press Ctrl-C to stop everything."
# The prefix honcho gives every line of a part: the time, the part's name, a bar.
PREFIXED = re.compile(r"^\d\d:\d\d:\d\d (?P<part>[a-z-]+) +\| ")
# The names in those prefixes in each placement; `system` is honcho's own.
PARTS = {
    "hybrid": {
        *("monolith", "monolith-worker", "processing-api", "processing-worker", "functions"),
        *("sandbox", "headless", "system"),
    },
    "monolith": {"monolith", "monolith-worker", "sandbox", "headless", "system"},
}
# Migrations, demo data and (when its sources changed) the headless build, then each part
# waited for in turn, on two shared cores.
START_TIMEOUT_SECONDS = 240.0
STEP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 60.0
# What make and the parts need of this shell; none of its settings (DATABASE_URL, brokers…).
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")


@dataclass
class MakeRun:
    placement: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log: TextIO
    # What followed the banner when it was first seen.
    after_banner: str = ""

    def log_text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def failure(self, what: str) -> AssertionError:
        tail = "\n".join(self.log_text().splitlines()[-60:])
        return AssertionError(f"make run PLACEMENT={self.placement}: {what}\n{tail}")

    def wait(self, condition: Callable[[], Any], *, timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise self.failure(f"exited with {self.process.returncode} before {what}")
            if result := condition():
                return result
            time.sleep(0.25)
        raise self.failure(f"not within {timeout:.0f} s: {what}")

    def stop(self) -> None:
        """Ctrl-C: SIGINT to the whole process group, then wait until every part is gone."""
        try:
            os.killpg(self.process.pid, signal.SIGINT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and self._anything_running():
            time.sleep(0.25)
        if self._anything_running():
            os.killpg(self.process.pid, signal.SIGKILL)
            raise self.failure(f"parts still running {STOP_TIMEOUT_SECONDS:.0f} s after Ctrl-C")
        self.process.wait(5)
        if left := self._parts_left():
            for group in left:
                os.killpg(group, signal.SIGKILL)
            raise self.failure(f"process groups of parts left after Ctrl-C: {left}")

    def _parts_left(self) -> list[int]:
        """The process groups of the parts (each started in a session of its own, its pid
        in honcho's `started (pid=…)` line) that still have a member."""
        left = []
        for pid in map(int, re.findall(r"started \(pid=(\d+)\)", self.log_text())):
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                continue
            left.append(pid)
        return left

    def _anything_running(self) -> bool:
        """make, or what it started (make run's process manager, which stops the parts):
        reaping make first, since a zombie still counts as a member of its group."""
        self.process.poll()
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(params=["hybrid", "monolith"])
def make_run(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeRun]:
    if taken := ports_taken(PORTS):
        service_missing(f"make run's ports are in use ({', '.join(taken)}): is one up?")
    environment = {name: os.environ[name] for name in INHERITED if name in os.environ}
    environment["TESSERA_VAR_DIR"] = str(tmp_path / "var")
    log_path = tmp_path / "make-run.log"
    log = log_path.open("w")
    make = shutil.which("make")
    assert make, "make is not on PATH"
    process = subprocess.Popen(
        [make, "--no-print-directory", "run", f"PLACEMENT={request.param}"],
        cwd=REPO_ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    run = MakeRun(request.param, process, log_path, log)
    try:
        run.wait(lambda: BANNER_END in run.log_text(), timeout=START_TIMEOUT_SECONDS, what="ready")
        run.after_banner = run.log_text().split(BANNER_END, 1)[1]
        yield run
    finally:
        try:
            run.stop()
        finally:
            log.close()


def test_make_run_starts_the_placements_parts_and_a_payment_turns_the_order_paid(
    make_run: MakeRun,
) -> None:
    assert not make_run.after_banner.strip(), f"printed after the banner:\n{make_run.after_banner}"
    banner = make_run.log_text().split(BANNER_START, 1)[1]
    jobs, receivers = {
        "hybrid": ("processing service", "webhook functions"),
        "monolith": ("inline, in the monolith worker", "inline, in the monolith"),
    }[make_run.placement]
    assert re.search(rf"Jobs\s+{jobs}", banner), banner
    assert re.search(rf"Webhooks\s+{receivers}", banner), banner
    for name, port in PORTS.items():
        assert _ready(port) == (name in RUNNING[make_run.placement]), f"{name} on {port}"

    with httpx.Client(base_url=f"http://127.0.0.1:{MONOLITH_PORT}", timeout=10) as shopper:
        catalog = shopper.get("/").text
        add = re.search(r"/cart/add/\d+/", catalog)
        assert add, "no add-to-cart form on the catalog page"
        added = shopper.post(add.group(0), data={"csrfmiddlewaretoken": csrf_token(shopper, "/")})
        assert added.status_code in (200, 302), added.text[-2000:]

        order_page = sandbox_pays(guest_checks_out(shopper))
        assert order_page.startswith(f"http://127.0.0.1:{MONOLITH_PORT}/orders/")

        make_run.wait(
            lambda: "badge--paid" in shopper.get(f"{order_page}status/").text,
            timeout=STEP_TIMEOUT_SECONDS,
            what="the order paid",
        )
        link = make_run.wait(
            lambda: re.search(
                r'data-invoice-link href="([^"]+)"', shopper.get(f"{order_page}invoice/").text
            ),
            timeout=STEP_TIMEOUT_SECONDS,
            what="the invoice link",
        )
        invoice = shopper.get(link.group(1))
    assert invoice.status_code == 200
    assert invoice.headers["Content-Type"] == "application/pdf"
    assert invoice.content.startswith(b"%PDF-")

    make_run.stop()
    lines_after_the_banner_name_their_part(make_run)


def lines_after_the_banner_name_their_part(make_run: MakeRun) -> None:
    """The banner is unprefixed, the parts spoke before it, and every line after it (the
    journey, then Ctrl-C) carries the prefix of one of the placement's parts."""
    before, banner_and_after = make_run.log_text().split(BANNER_START, 1)
    banner, after = banner_and_after.split(BANNER_END, 1)
    assert not any(PREFIXED.match(line) for line in banner.splitlines()), banner
    assert any(PREFIXED.match(line) for line in before.splitlines()), "no part spoke before it"
    later = [line for line in after.splitlines() if line.strip()]
    parts = [(found["part"] if (found := PREFIXED.match(line)) else None, line) for line in later]
    unnamed = [line for part, line in parts if part not in PARTS[make_run.placement]]
    assert not unnamed, "\n".join(unnamed)
    assert any(part == "monolith" and "/orders/" in line for part, line in parts), "\n".join(later)
