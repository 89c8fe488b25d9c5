"""`make run`: prepare the embedded default and start every part of Tessera on this machine.

Steps: migrate the SQLite databases, seed demo data, build the headless storefront; then honcho
(a Procfile runner, Foreman's Python clone) starts every part at once and prints each line they
write with the part's name in front, coloured on a terminal. One more process of honcho's,
`tessera`, waits until every part is ready (each server's /readyz answers, each Celery worker
answers a ping through its broker) and then prints the URLs and demo logins, last. Ctrl-C
stops every part; if one part dies, honcho stops the others, so a half-running platform never
lingers.

By default each part says only what a person needs: a line when a server listens, one per
request, warnings and errors. `make run VERBOSE=1` (`--verbose`) keeps everything: Celery's and
Django's start-up banners and every log line at INFO.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

if __package__ in (None, ""):
    # Run as a script: make the `scripts` package importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import honcho.manager
from honcho.compat import ProcessManager
from honcho.printer import Message, Printer
from tessera_contract.messaging import PROCESSING_QUEUES

from scripts import headless_storefront
from scripts.components import (
    FUNCTIONS_PORT,
    HEADLESS_PORT,
    MONOLITH_PORT,
    PROCESSING_PORT,
    PYTHON,
    REPO_ROOT,
    SANDBOX_PORT,
    DjangoProject,
    celery,
    functions_cloud_function_serve,
    functions_serve,
    manage,
    ports_taken,
    ready_url,
    runserver,
    sandbox_serve,
)

# Where the run keeps its state (databases, media, broker files, cache); every component reads
# the same TESSERA_VAR_DIR, so a second checkout's state (or a test's) stays apart.
VAR_DIR = Path(os.environ.get("TESSERA_VAR_DIR") or REPO_ROOT / "var")

# The processing service owns its database: never the monolith's DATABASE_URL.
PROCESSING_ENV = {
    # The monolith's settings module is the run's default; processing needs its own.
    "DJANGO_SETTINGS_MODULE": "processing.settings.local",
    "PROCESSING_DATABASE_URL": os.environ.get(
        "PROCESSING_DATABASE_URL", f"sqlite:///{VAR_DIR / 'processing.sqlite3'}"
    ),
}


# The embedded run's webhook secrets: the sandbox signs with them, the functions verify with
# them. Public on purpose, for the laptop only; real environment variables win.
DEMO_WEBHOOK_SECRETS = {
    "PAYMENT_WEBHOOK_SECRETS": "whsec_tessera_local_payments_demo",
    "CARRIER_WEBHOOK_SECRETS": "whsec_dGVzc2VyYS1sb2NhbC1jYXJyaWVyLWRlbW8tc2VjcmV0",
}


# The embedded run's internal secrets and addresses: the monolith signs its service tokens and
# verifies job-result callbacks with the same values the processing service reads (both read
# these variable names). Public on purpose, for the laptop only; real environment variables win.
DEMO_INTERNAL_SETTINGS = {
    "SERVICE_TOKEN_KEYS": "local:local-development-only-service-token-key-32b",
    "JOB_RESULT_CALLBACK_SECRETS": "whsec_bG9jYWwtZGV2ZWxvcG1lbnQtb25seS1jYWxsYmFjaw==",
    # Where the monolith submits jobs, and where processing posts their results.
    "PROCESSING_API_URL": "http://127.0.0.1:8001",
    "MONOLITH_CALLBACK_URL": "http://127.0.0.1:8000",
}


# Without VERBOSE: Django's own INFO lines (django-axes' greeting in every process, the apps'
# notes) stay out; each request's line comes from runserver's `django.server` logger, which
# has its own level. A DJANGO_LOG_LEVEL of your own wins.
QUIET_SETTINGS = {"DJANGO_LOG_LEVEL": "WARNING", "DJANGO_RUNSERVER_HIDE_WARNING": "true"}

# Every part writes each line as it happens, not when a pipe's buffer fills.
UNBUFFERED = {"PYTHONUNBUFFERED": "1"}


# `make run PLACEMENT=…`: where each part runs, as the monolith's two settings. A part's own
# variable (PROCESSING_PLACEMENT, WEBHOOK_RECEIVERS_PLACEMENT) wins over the preset.
PLACEMENT_PRESETS = {
    # Every part in its own process: the processing service, the webhook functions.
    "hybrid": {"PROCESSING_PLACEMENT": "service", "WEBHOOK_RECEIVERS_PLACEMENT": "function"},
    # One Django process and one worker do everything.
    "monolith": {"PROCESSING_PLACEMENT": "inline", "WEBHOOK_RECEIVERS_PLACEMENT": "inline"},
}


@dataclass(frozen=True)
class Placements:
    processing: str  # service | inline
    receivers: str  # function | cloud-function | inline

    @classmethod
    def from_environment(cls, preset: str) -> Placements:
        if preset not in PLACEMENT_PRESETS:
            raise ValueError(f"PLACEMENT={preset!r}: choose one of {', '.join(PLACEMENT_PRESETS)}")
        for name, value in PLACEMENT_PRESETS[preset].items():
            os.environ.setdefault(name, value)
        return cls(
            processing=os.environ["PROCESSING_PLACEMENT"],
            receivers=os.environ["WEBHOOK_RECEIVERS_PLACEMENT"],
        )

    @property
    def receivers_url(self) -> str:
        port = MONOLITH_PORT if self.receivers == "inline" else FUNCTIONS_PORT
        return f"http://127.0.0.1:{port}/webhooks"


# The lines that each kind of server repeats on every start and stop, left out without VERBOSE:
# what stays is the one line that says where it listens.
RUNSERVER_CHATTER = re.compile(r"^(\w+ \d\d, \d{4} - [\d:]+|Django version |Quit the server with )")
GUNICORN_CHATTER = re.compile(
    r"\[INFO\] (Starting gunicorn|Using worker|Booting worker|Control socket|Handling signal"
    r"|Worker exiting|Shutting down)"
)
# Left out of every part's output without VERBOSE: blank lines, and kombu's note on each new
# connection that the embedded broker's URL (`filesystem://`) names no host.
EVERY_PART_CHATTER = re.compile(r"^\s*$|No hostname was supplied\. Reverting to default")


@dataclass(frozen=True)
class Part:
    """One long-running process of the run: its name (the prefix of its lines), its command,
    and how to tell that it is ready."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    # A server: ready once its /readyz on this loopback port answers.
    port: int | None = None
    # A Celery worker: ready once its node (`<project>@<host>`) answers a ping.
    worker_of: DjangoProject | None = None
    # Its start-up and stop lines that are left out without VERBOSE.
    chatter: re.Pattern[str] | None = None

    @property
    def node(self) -> str:
        return f"{self.worker_of}@{socket.gethostname()}"

    def is_ready(self) -> bool:
        if self.worker_of is not None:
            ping = celery(self.worker_of, "inspect", "ping", "--destination", self.node)
            answered = subprocess.run(
                [*ping, "--timeout", "3"],
                env={**os.environ, **self.env},
                cwd=REPO_ROOT,
                capture_output=True,
                check=False,
            )
            return answered.returncode == 0
        if self.port is None:
            return True
        try:
            with urllib.request.urlopen(ready_url(self.port), timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False


def worker_argv(project: DjangoProject, *options: str, verbose: bool) -> list[str]:
    """A Celery worker named after its project; without ``verbose``, no banner and no INFO."""
    quiet = () if verbose else ("--quiet",)
    level = "INFO" if verbose else "WARNING"
    node = f"{project}@%h"
    return celery(project, *quiet, "worker", "-n", node, "--loglevel", level, *options)


def parts(placements: Placements, *, verbose: bool) -> list[Part]:
    skip_checks = [] if verbose else ["--skip-checks"]  # `migrate` ran them a moment ago
    monolith = [
        Part(
            name="monolith",
            argv=[*runserver("monolith", MONOLITH_PORT), *skip_checks],
            port=MONOLITH_PORT,
            chatter=RUNSERVER_CHATTER,
        ),
        Part(
            # Applies queued webhook envelopes (the inbox consumer step) and order tasks, and
            # runs the processing jobs when they are inline.
            name="monolith-worker",
            argv=worker_argv("monolith", verbose=verbose),
            worker_of="monolith",
        ),
    ]
    functions = [
        Part(
            name="functions",
            # Their own server, or Google Cloud Functions' runtime serving the same code.
            argv=(
                functions_cloud_function_serve(FUNCTIONS_PORT)
                if placements.receivers == "cloud-function"
                else functions_serve()
            ),
            port=FUNCTIONS_PORT,
            chatter=GUNICORN_CHATTER,
        )
    ]
    processing = [
        Part(
            name="processing-api",
            argv=[*runserver("processing", PROCESSING_PORT), *skip_checks],
            port=PROCESSING_PORT,
            env=PROCESSING_ENV,
            chatter=RUNSERVER_CHATTER,
        ),
        Part(
            # Embedded: one worker for every queue; deployed, one worker per queue.
            name="processing-worker",
            argv=worker_argv(
                "processing",
                *("-Q", ",".join(PROCESSING_QUEUES), "--concurrency", "2"),
                verbose=verbose,
            ),
            env=PROCESSING_ENV,
            worker_of="processing",
        ),
    ]
    outside = [
        Part(
            name="sandbox",
            argv=sandbox_serve(SANDBOX_PORT),
            port=SANDBOX_PORT,
            # The sandbox signs with exactly the secrets the receivers verify with, and sends
            # to wherever the receivers run.
            env={
                "SANDBOX_PAYMENT_SECRETS": os.environ.get("PAYMENT_WEBHOOK_SECRETS", ""),
                "SANDBOX_CARRIER_SECRETS": os.environ.get("CARRIER_WEBHOOK_SECRETS", ""),
                "SANDBOX_PAYMENTS_WEBHOOK_URL": f"{placements.receivers_url}/payments",
                "SANDBOX_CARRIER_WEBHOOK_URL": f"{placements.receivers_url}/carrier",
            },
        ),
        Part(
            # The decoupled storefront on its own origin, calling the monolith's API across origins.
            name="headless",
            argv=headless_storefront.serve_argv(HEADLESS_PORT),
            port=HEADLESS_PORT,
            chatter=GUNICORN_CHATTER,
        ),
    ]
    return [
        *monolith,
        *(functions if placements.receivers != "inline" else []),
        *(processing if placements.processing == "service" else []),
        *outside,
    ]


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def prepare(placements: Placements) -> None:
    """Create the runtime folders, migrate and seed; safe to repeat on every start."""
    for folder in (VAR_DIR, VAR_DIR / "media", VAR_DIR / "broker"):
        folder.mkdir(parents=True, exist_ok=True)
    step("Migrating the monolith's database")
    subprocess.run(manage("monolith", "migrate", "--no-input", "-v", "0"), check=True)
    if placements.processing == "service":
        step("Migrating the processing service's database")
        subprocess.run(
            manage("processing", "migrate", "--no-input", "-v", "0"),
            check=True,
            env={**os.environ, **PROCESSING_ENV},
        )
    step("Seeding demo data")
    subprocess.run(manage("monolith", "seed_demo"), check=True)
    step("Building the headless storefront (only when its sources changed)")
    headless_storefront.build(api_origin="http://127.0.0.1:8000")


def banner(placements: Placements, *, verbose: bool) -> str:
    from monolith.demo.services import DEMO_SHOPPER, DEMO_STAFF

    processing = {
        "service": "processing service  http://127.0.0.1:8001/healthz",
        "inline": "inline, in the monolith worker",
    }[placements.processing]
    receivers = {
        "function": "webhook functions",
        "cloud-function": "webhook functions (functions-framework)",
        "inline": "inline, in the monolith",
    }[placements.receivers]
    return "\n".join(
        [
            "",
            "Tessera is running on embedded defaults (SQLite, local files).",
            "  Shop           http://127.0.0.1:8000/",
            "  Admin          http://127.0.0.1:8000/admin/",
            "  Storefront API http://127.0.0.1:8000/api/v1/products",
            "Where each part runs (make run PLACEMENT=hybrid|monolith; docs/architecture.md):",
            f"  Jobs           {processing}",
            f"  Webhooks       {receivers}  {placements.receivers_url}/payments  /carrier",
            "  Sandbox        http://127.0.0.1:8003/ (payment provider and carrier)",
            "  Headless shop  http://127.0.0.1:8004/ (frontend/headless, API across origins)",
            "  Health         /healthz and /readyz on every port",
            f"  Shopper login  {DEMO_SHOPPER[0]} / {DEMO_SHOPPER[2]}",
            f"  Staff login    {DEMO_STAFF[0]} / {DEMO_STAFF[2]}",
            "Every line below names the part that wrote it"
            + ("." if verbose else " (make run VERBOSE=1: all they say)."),
            "Press Ctrl-C to stop everything.",
            "",
        ]
    )


# The process that waits for the others and then prints the banner; its lines carry no prefix.
ANNOUNCER = "tessera"
# The name honcho gives its own lines (a part started, signalled, stopped).
SYSTEM = honcho.manager.SYSTEM_PRINTER_NAME
READY_TIMEOUT_SECONDS = 180
# Once every part answers: time for the lines they wrote meanwhile (each server's line for the
# last readiness probe) to be printed, so that the banner comes after them.
SETTLE_SECONDS = 1.0
# Celery's warm shutdown finishes the tasks in hand; on the embedded broker its loop polls, so
# it needs several seconds: only after this long does honcho kill what is left.
STOP_TIMEOUT_SECONDS = 30


def announce_when_ready(placements: Placements, *, verbose: bool) -> int:
    """Wait until every part is ready, print the banner, then wait to be stopped with them."""
    import django

    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"  # this process prints the banner and nothing else
    django.setup()
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    waiting = parts(placements, verbose=verbose)
    while waiting:
        waiting = [part for part in waiting if not part.is_ready()]
        if waiting and time.monotonic() > deadline:
            names = ", ".join(part.name for part in waiting)
            print(f"Tessera could not start: not ready within {READY_TIMEOUT_SECONDS} s: {names}")
            return 1
        time.sleep(0.3 if waiting else SETTLE_SECONDS)
    print(banner(placements, verbose=verbose), flush=True)
    while True:
        signal.pause()  # until honcho stops the run


class RunPrinter(Printer):
    """honcho's printer, which prints the announcer's lines as they are and, without VERBOSE,
    leaves out each part's repeated start-up lines."""

    def __init__(self, chatter: dict[str, re.Pattern[str]], *, verbose: bool) -> None:
        super().__init__(sys.stdout)
        self.chatter = {} if verbose else chatter
        self.verbose = verbose

    def write(self, message: Message) -> None:
        data = message.data
        text = data.decode(errors="replace") if isinstance(data, bytes) else str(data)
        if message.name == ANNOUNCER:
            print(text, end="", file=self.output, flush=True)
            return
        if not self.verbose and message.name != SYSTEM and EVERY_PART_CHATTER.search(text):
            return
        pattern = self.chatter.get(message.name)
        if pattern is not None and pattern.search(text):
            return
        super().write(message)


class MainProcessTerminated(ProcessManager):
    """How honcho signals a part, except that SIGTERM goes to the part's main process only,
    which stops its own children in order (Celery's pool, gunicorn's workers).

    honcho sends it to the part's whole process group: Celery's pool processes die mid-task,
    and billiard's exit handler then waits for a lock a dead one held until the SIGKILL comes.
    SIGKILL, after STOP_TIMEOUT_SECONDS, still goes to the whole group.
    """

    def terminate(self, pid: int) -> None:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


class PartsManager(honcho.manager.Manager):
    """honcho's manager of the run's parts, stopping them as MainProcessTerminated says."""

    def __init__(self, printer: Printer) -> None:
        super().__init__(printer)
        self._procmgr = MainProcessTerminated()  # honcho has no option for it


def _stop_on_hangup(signum: int, frame: FrameType | None) -> None:
    """A closed terminal stops the run as Ctrl-C does (honcho itself handles INT and TERM)."""
    os.kill(os.getpid(), signal.SIGTERM)


def run(placement: str, placements: Placements, *, verbose: bool) -> int:
    planned = parts(placements, verbose=verbose)
    taken = ports_taken({part.name: part.port for part in planned if part.port is not None})
    if taken:
        print(
            f"Tessera could not start: ports already in use: {', '.join(taken)}. "
            "Is another `make run` or `make distributed` up?",
            file=sys.stderr,
        )
        return 1
    prepare(placements)
    step("Starting every part")
    # honcho's own wait, five seconds, would cut the workers short; it is a module constant.
    honcho.manager.KILL_WAIT = STOP_TIMEOUT_SECONDS
    manager = PartsManager(
        RunPrinter({part.name: part.chatter for part in planned if part.chatter}, verbose=verbose)
    )
    for part in planned:
        manager.add_process(
            part.name,
            "exec " + shlex.join(part.argv),
            env={**os.environ, **UNBUFFERED, **part.env},
            cwd=REPO_ROOT,
        )
    announcer = [PYTHON, __file__, "--announce", "--placement", placement]
    announcer += ["--verbose"] if verbose else []
    manager.add_process(
        ANNOUNCER, "exec " + shlex.join(announcer), env={**os.environ, **UNBUFFERED}, cwd=REPO_ROOT
    )
    signal.signal(signal.SIGHUP, _stop_on_hangup)
    manager.loop()
    # honcho's code for a stop that Ctrl-C (SIGINT) or SIGTERM asked for.
    if manager.returncode in (130, 143):
        return 0
    print("Tessera stopped: a part exited; the lines above say which.", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--placement",
        default=os.environ.get("PLACEMENT", "hybrid"),
        help="hybrid (every part its own process) or monolith (default: $PLACEMENT or hybrid)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="every part's full output, banners included"
    )
    parser.add_argument("--announce", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    for name, value in {**DEMO_WEBHOOK_SECRETS, **DEMO_INTERNAL_SETTINGS}.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings.local")
    if not arguments.verbose:
        for name, value in QUIET_SETTINGS.items():
            os.environ.setdefault(name, value)
    try:
        placements = Placements.from_environment(arguments.placement)
    except ValueError as error:
        print(f"Tessera could not start: {error}", file=sys.stderr)
        return 2
    if arguments.announce:
        return announce_when_ready(placements, verbose=arguments.verbose)
    return run(arguments.placement, placements, verbose=arguments.verbose)


if __name__ == "__main__":
    sys.exit(main())
