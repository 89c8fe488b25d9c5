"""The webhook path as separate processes: sandbox → functions → RabbitMQ → monolith worker.

`running_stack` (the fixture, in conftest.py) starts, around the test's live_server and its
PostgreSQL test database:

- the sandbox provider and carrier (`python -m tessera_sandbox serve`, a free port),
- the webhook functions (`python -m tessera_functions.serve`, gunicorn, a free port),
- one or more monolith Celery workers (`celery -A monolith worker`, two pool processes each),

all on the machine's RabbitMQ in the vhost `tessera-monolith-tests`. The test process's own
Celery app is pointed at the same vhost, so tasks queued by the live server (the carrier
request on fulfilment) reach that worker. Each process logs to a file of its own; a process
that dies or never gets ready fails the test with the end of its log.

A test that asks for a `StackPlacement` gets the deployment it names instead (#15):
``hybrid`` adds the real processing service (its API and worker on SQLite and a filesystem
broker, sharing the media folder, posting results to the live server);
``hybrid-cloud-function`` is ``hybrid`` with the webhook functions served by Google Cloud
Functions' runtime (functions-framework, ``tessera_functions.cloud_function``); ``monolith``
starts no functions and no processing service: the sandbox sends its webhooks to the live
server's inline receivers, and the worker runs processing jobs itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO
from urllib.parse import quote

import httpx
import kombu.pools
from django.db import connection
from kombu import Connection, Queue
from tessera_contract.messaging import MONOLITH_TASK_QUEUE
from tessera_contract.signing import standard_webhook_secret_generate
from tessera_testsupport import free_port, rabbitmq_vhost_url

from monolith import celery_app
from monolith.inbox.consumers import webhook_queue
from scripts import components

from .processing_support import (
    CALLBACK_SECRET,
    TOKEN_KEYS,
    processing_service_running,
)

PYTHON = sys.executable
VHOST = "tessera-monolith-tests"
PAYMENT_SECRET = "whsec_running_stack_payments"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 20.0


class StackError(AssertionError):
    """A part of the stack died or did not get ready; the message holds its log's end."""


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1
) -> None:
    """Poll `condition` until it holds; fail naming `what` past the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"not reached within {timeout:.0f} s: {what}")


class StackProcess:
    """One part of the stack as a subprocess with its own log file."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], logs: Path) -> None:
        self.name = name
        self.log_path = logs / f"{name}.log"
        self._log: TextIO = self.log_path.open("w")
        # A session of its own: `kill` takes the process and its children (a worker's pool).
        self.process = subprocess.Popen(
            argv, env=dict(env), stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.killed = False

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def check_alive(self) -> None:
        if self.process.poll() is not None and not self.killed:
            raise StackError(
                f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
            )

    def wait_ready(self, ready: Callable[[], bool]) -> None:
        def alive_and_ready() -> bool:
            self.check_alive()
            return ready()

        try:
            wait_until(alive_and_ready, timeout=START_TIMEOUT_SECONDS, what=f"{self.name} ready")
        except AssertionError as error:
            raise StackError(f"{error}\n{self.log_tail()}") from None

    def kill(self) -> None:
        """SIGKILL the process and its children at once, as a crashed machine would: no
        shutdown, no acknowledgement, no rollback sent to the database."""
        self.killed = True
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(5)

    def stop(self) -> None:
        """TERM the main process only (Celery's warm shutdown stops its own pool), then KILL."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


def monolith_worker_argv(*, hostname: str, concurrency: int) -> list[str]:
    """`celery -A monolith worker` as the tests start it: the prefork pool, INFO logs, and no
    gossip or mingle (other workers on the same broker are none of its business)."""
    return components.celery_worker(
        "monolith",
        "--loglevel=INFO",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        "--without-gossip",
        "--without-mingle",
        f"--hostname={hostname}",
    )


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False


def _consumers_on(broker_url: str, *queues: Queue, count: int = 1) -> bool:
    """Whether every queue has ``count`` consumers: the workers' task and inbox consumers."""
    with Connection(broker_url) as broker:
        for queue in queues:
            try:
                declared: Any = queue(broker.channel()).queue_declare(passive=True)
            except Exception:  # not declared yet: the worker is still starting
                return False
            if declared.consumer_count < count:
                return False
    return True


def _database_url() -> str:
    """The URL of the test database pytest-django created, for the worker subprocesses."""
    database = connection.settings_dict
    password = f":{quote(database['PASSWORD'])}" if database["PASSWORD"] else ""
    host = database["HOST"] or "127.0.0.1"
    port = database["PORT"] or 5432
    return f"postgres://{quote(database['USER'])}{password}@{host}:{port}/{database['NAME']}"


@dataclass(frozen=True)
class StackPlacement:
    """Where processing jobs and webhook receivers run (see the module's docstring), and
    what those parts must know of the live server."""

    name: Literal["hybrid", "hybrid-cloud-function", "monolith"]
    monolith_url: str
    media_root: Path
    # The cache folder the live server and the workers share (the catalog's version is in it).
    cache_folder: Path

    def __post_init__(self) -> None:
        if self.name not in ("hybrid", "hybrid-cloud-function", "monolith"):
            raise ValueError(f"no placement {self.name!r}: hybrid, hybrid-cloud-function, monolith")

    @property
    def receivers_inline(self) -> bool:
        return self.name == "monolith"

    @property
    def receivers_cloud_function(self) -> bool:
        return self.name == "hybrid-cloud-function"


@dataclass(frozen=True)
class RunningStack:
    """Where the running parts are, and how to act as the provider's burst sender."""

    broker_url: str
    # Where the sandbox sends its webhooks: the functions, or the live server's inline receivers.
    receivers_url: str
    sandbox_url: str
    payment_secret: str
    carrier_secret: str
    worker_metrics_urls: tuple[str, ...]
    sandbox_environment: dict[str, str]
    processes: tuple[StackProcess, ...]
    workers: tuple[StackProcess, ...]

    def check_alive(self) -> None:
        """Fail if any part died (a worker crash must not pass as a slow worker)."""
        for process in self.processes:
            process.check_alive()

    def burst(
        self,
        references: list[str],
        *,
        amount_minor: int,
        concurrency: int,
        duplicates_percent: float,
        out_of_order_percent: float,
        seed: int,
        folder: Path,
    ) -> dict[str, Any]:
        """Run the sandbox's burst mode against the receivers; return its JSON report."""
        references_file = folder / "references.txt"
        references_file.write_text("\n".join(references) + "\n")
        completed = subprocess.run(
            [
                PYTHON,
                "-m",
                "tessera_sandbox",
                "burst",
                f"--events={len(references)}",
                f"--references={references_file}",
                f"--amount={amount_minor}",
                f"--concurrency={concurrency}",
                f"--duplicates={duplicates_percent}",
                f"--out-of-order={out_of_order_percent}",
                f"--seed={seed}",
            ],
            env=self.sandbox_environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if completed.returncode != 0:
            raise StackError(f"the burst failed:\n{completed.stderr[-3000:]}")
        report: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
        return report


def live_server_place(settings: Any, *, stack: RunningStack, placement: StackPlacement) -> None:
    """Configure the live server (this process) for the placement: its inline receivers publish
    to the stack's broker and verify with the sandbox's secrets; in ``hybrid``, it verifies
    processing's signed results."""
    settings.MEDIA_ROOT = placement.media_root
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(placement.cache_folder),
        }
    }
    if placement.name == "monolith":
        settings.PROCESSING_PLACEMENT = "inline"
        settings.WEBHOOK_RECEIVERS_PLACEMENT = "inline"
        settings.CELERY_BROKER_URL = stack.broker_url
        settings.PAYMENT_WEBHOOK_SECRETS = stack.payment_secret
        settings.CARRIER_WEBHOOK_SECRETS = stack.carrier_secret
    else:
        settings.PROCESSING_PLACEMENT = "service"
        settings.WEBHOOK_RECEIVERS_PLACEMENT = (
            "cloud-function" if placement.receivers_cloud_function else "function"
        )
        settings.JOB_RESULT_CALLBACK_SECRETS = CALLBACK_SECRET


def _environment(**values: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SANDBOX_")}
    env.update(values)
    return env


@contextmanager
def this_process_publishing_to(broker_url: str) -> Iterator[None]:
    """Point this process's Celery app (the live server's task publishing) at the broker."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "broker_transport_options")}
    _connections_forget()
    celery_app.conf.update(broker_url=broker_url, broker_transport_options={})
    try:
        yield
    finally:
        _connections_forget()
        celery_app.conf.update(saved)


def _connections_forget() -> None:
    """Drop the app's pooled connections and producers, so the next use connects afresh.

    kombu pools connections per URL, process-wide: two tests on `sqs://` each have an SQS
    endpoint of their own, and the second would otherwise reuse the first's closed one.
    """
    # Not celery_app.close(): that also drops the app from Celery's registry of apps, and a
    # @shared_task imported afterwards (jobs.tasks, on the first job the live server queues)
    # would never be bound to it: "NotRegistered: jobs.processing_jobs_submit".
    celery_app._pool = None  # type: ignore[attr-defined]
    kombu.pools.reset()
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


def _queues_purge(broker_url: str) -> list[Queue]:
    """Declare and empty the inbox and task queues: leftovers of an interrupted run are noise."""
    task_queue = Queue(MONOLITH_TASK_QUEUE, durable=True)
    queues = [webhook_queue(), task_queue]
    with Connection(broker_url) as broker:
        for queue in queues:
            bound = queue(broker.channel())
            bound.declare()
            bound.purge()
    return queues


def _placement_worker_environment(
    placement: StackPlacement | None, *, processing_url: str
) -> dict[str, str]:
    """The worker's settings for where jobs run. Without a placement, a processing URL nothing
    listens on: invoice jobs on payment stay in the outbox, and never reach a processing
    service someone else runs on 8001."""
    if placement is None:
        return {
            "DJANGO_SETTINGS_MODULE": "monolith.settings.test",
            "PROCESSING_API_URL": processing_url,
        }
    shared = {
        "DJANGO_SETTINGS_MODULE": "monolith.settings.test",
        "TESSERA_TEST_CACHE_URL": f"filecache://{placement.cache_folder}",
        "DJANGO_MEDIA_ROOT": str(placement.media_root),
    }
    if placement.name == "monolith":
        return {"PROCESSING_PLACEMENT": "inline", **shared}
    return {
        "PROCESSING_PLACEMENT": "service",
        "PROCESSING_API_URL": processing_url,
        "SERVICE_TOKEN_KEYS": TOKEN_KEYS,
        "JOB_RESULT_CALLBACK_SECRETS": CALLBACK_SECRET,
        **shared,
    }


@contextmanager
def running_stack_start(
    *,
    rabbitmq_url: str,
    return_origins: Sequence[str],
    logs: Path,
    worker_environment: Mapping[str, str] | None = None,
    workers_count: int = 1,
    placement: StackPlacement | None = None,
) -> Iterator[RunningStack]:
    """Start sandbox, functions and worker against the current test database; stop them after.

    `return_origins` are the shops the pay page may send shoppers back to (the live server,
    and the headless storefront when a test serves it);
    `worker_environment` overrides the workers' settings (e.g. the inbox sweep's timing);
    `workers_count` monolith workers share the queues (each its own process and pool);
    `placement` starts the parts of that deployment instead (see the module's docstring):
    the live server's own settings for it are the caller's (conftest's `running_stack`).
    """
    logs.mkdir(parents=True, exist_ok=True)
    broker_url = rabbitmq_vhost_url(rabbitmq_url, VHOST)
    queues = _queues_purge(broker_url)
    carrier_secret = standard_webhook_secret_generate()
    functions_url = f"http://127.0.0.1:{free_port()}"
    receivers_url = functions_url
    if placement is not None and placement.receivers_inline:
        receivers_url = placement.monolith_url
    processing_port = free_port()
    processing_url = f"http://127.0.0.1:{processing_port}"
    sandbox_port = free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    sandbox_environment = _environment(
        SANDBOX_PAYMENTS_WEBHOOK_URL=f"{receivers_url}/webhooks/payments",
        SANDBOX_CARRIER_WEBHOOK_URL=f"{receivers_url}/webhooks/carrier",
        SANDBOX_PAYMENT_SECRETS=PAYMENT_SECRET,
        SANDBOX_CARRIER_SECRETS=carrier_secret,
        SANDBOX_RETURN_ORIGINS=",".join(return_origins),
        SANDBOX_RETRY_BASE_SECONDS="0.2",
        SANDBOX_IN_TRANSIT_DELAY_SECONDS="0.5",
        SANDBOX_DELIVERED_DELAY_SECONDS="1",
    )
    with ExitStack() as stop_all:
        stop_all.enter_context(this_process_publishing_to(broker_url))
        sandbox = StackProcess(
            "sandbox",
            components.sandbox_serve(sandbox_port),
            sandbox_environment,
            logs,
        )
        stop_all.callback(sandbox.stop)
        receivers: list[StackProcess] = []
        if receivers_url == functions_url:
            cloud_function = placement is not None and placement.receivers_cloud_function
            functions = StackProcess(
                "functions",
                components.functions_cloud_function_serve(int(functions_url.rsplit(":", 1)[1]))
                if cloud_function
                else components.functions_serve(),
                _environment(
                    WEBHOOKS_BIND=functions_url.removeprefix("http://"),
                    WEBHOOKS_BROKER_URL=broker_url,
                    WEBHOOKS_WORKERS="1",
                    WEBHOOKS_THREADS="16",
                    # The same sizing for functions-framework's gunicorn.
                    WORKERS="1",
                    THREADS="16",
                    PAYMENT_WEBHOOK_SECRETS=PAYMENT_SECRET,
                    CARRIER_WEBHOOK_SECRETS=carrier_secret,
                ),
                logs,
            )
            stop_all.callback(functions.stop)
            receivers.append(functions)
        workers = []
        for number in range(1, workers_count + 1):
            name = "worker" if workers_count == 1 else f"worker-{number}"
            metrics_port = free_port()
            worker = StackProcess(
                name,
                monolith_worker_argv(hostname=f"{name}-{os.getpid()}@%h", concurrency=2),
                _environment(
                    # Named, so a test can tell this worker's database sessions apart.
                    DATABASE_URL=f"{_database_url()}?application_name=tessera-{name}",
                    CELERY_BROKER_URL=broker_url,
                    CARRIER_API_URL=sandbox_url,
                    **_placement_worker_environment(placement, processing_url=processing_url),
                    INBOX_RETRY_BASE_SECONDS="0.2",
                    # Its metrics, summed over the main process and the pool's two children.
                    TESSERA_WORKER_METRICS_PORT=str(metrics_port),
                    PROMETHEUS_MULTIPROC_DIR=str(logs / f"{name}-metrics"),
                    **dict(worker_environment or {}),
                ),
                logs,
            )
            stop_all.callback(worker.stop)
            workers.append((worker, metrics_port))
        if placement is not None and not placement.receivers_inline:
            # Started while the worker starts: migrating its database takes seconds.
            stop_all.enter_context(
                processing_service_running(
                    workdir=logs / "processing",
                    media_root=placement.media_root,
                    callback_url=placement.monolith_url,
                    port=processing_port,
                )
            )
        sandbox.wait_ready(lambda: _http_ok(f"{sandbox_url}/healthz"))
        for functions in receivers:
            functions.wait_ready(lambda: _http_ok(f"{functions_url}/readyz"))
        for worker, _ in workers:
            worker.wait_ready(lambda: _consumers_on(broker_url, *queues, count=workers_count))
        yield RunningStack(
            broker_url=broker_url,
            receivers_url=receivers_url,
            sandbox_url=sandbox_url,
            payment_secret=PAYMENT_SECRET,
            carrier_secret=carrier_secret,
            worker_metrics_urls=tuple(f"http://127.0.0.1:{port}/metrics" for _, port in workers),
            sandbox_environment=sandbox_environment,
            processes=(sandbox, *receivers, *(worker for worker, _ in workers)),
            workers=tuple(worker for worker, _ in workers),
        )
