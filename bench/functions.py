"""Webhook functions benchmark: ingestion against a bare WSGI app, a 20,000-event burst end to
end, the Lambda zip's size, and cold start through Zappa's handler against a trivial app.

    .venv/bin/python bench/run.py --only functions

(a) Ingestion: wrk POSTs one correctly signed payment event to the functions (verify,
    validate, publish to RabbitMQ with publisher confirms, 202) and to a bare WSGI app that
    reads the body and answers 202, both under the same gunicorn configuration in one run.
(b) Burst (bench/burst.py): the sandbox's burst mode sends N signed payment events (with
    duplicates and refunds sent before their payment) through the functions to RabbitMQ,
    where the monolith's Celery workers apply them to orders in PostgreSQL: drained by 1 and
    by 2 workers (scale-out), and live (lag, charted); lost = 0 and applied = unique events
    are checked.
(c) The Lambda zip built by `functions/scripts/package_lambda.py`.
(d) Cold start: a fresh interpreter that sees only the unpacked zip (and the runtime's
    boto3) imports Zappa's `handler` and serves one API Gateway v2 request, for the webhook
    app and for the same handler serving a trivial WSGI app.

Only the standard library is imported at module level: gunicorn imports this module to serve
`bare_application`, the baseline of (a).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NAME = "functions"
DESCRIPTION = "webhook ingestion vs a bare WSGI app; 20k-event burst lag; Lambda zip; cold start"
REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO_ROOT / "bench"
# Signs and verifies within one run on loopback; nothing outside the run knows it.
PAYMENT_SECRET = "whsec_bench_payments"  # noqa: S105
VHOST = "tessera-bench"


class BenchmarkFailure(RuntimeError):
    """A check of the run failed (lost events, a non-2xx answer); the message says which."""


def bare_application(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The baseline of (a): read the body, as the functions do, and answer 202."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    body = b'{"status": "queued"}'
    start_response(
        "202 Accepted",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's own flags (the burst's in bench/burst.py)."""
    from bench import burst, postgres

    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--functions-database-url",
        default=postgres.local_database_url("tessera_bench_functions"),
        help="PostgreSQL database for the burst's monolith (dropped and recreated)",
    )
    group.add_argument(
        "--functions-rabbitmq-url",
        default="amqp://guest:guest@127.0.0.1:5672//",
        help=f"RabbitMQ; the run uses its own vhost {VHOST}_<run>, deleted at exit",
    )
    burst.add_arguments(group)
    group.add_argument("--gunicorn-workers", type=int, default=2, help="functions' workers")
    group.add_argument("--gunicorn-threads", type=int, default=8, help="threads per worker")
    group.add_argument("--cold-starts", type=int, default=15, help="repetitions per app")
    group.add_argument(
        "--ingestion-rounds",
        type=int,
        default=3,
        help="measures per target, the targets alternating; the ratio is their medians'",
    )


def progress(message: str) -> None:
    print(f"==> {message}", flush=True)


@contextmanager
def phase(label: str) -> Iterator[None]:
    progress(f"{label} ...")
    started = time.monotonic()
    yield
    print(f"    done in {time.monotonic() - started:.1f} s", flush=True)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1) of a non-empty list."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))
    return ordered[index]


# --------------------------------------------------------------------------- environment


@dataclass(frozen=True)
class Run:
    """What every part of one run shares."""

    workdir: Path
    broker_url: str
    database_url: str
    carrier_secret: str
    django_environment: dict[str, str]


def run_prepare(arguments: argparse.Namespace, workdir: Path) -> Run:
    from tessera_contract.signing import standard_webhook_secret_generate
    from tessera_testsupport import rabbitmq_vhost_url

    from bench.server import free_port

    broker_url = rabbitmq_vhost_url(arguments.functions_rabbitmq_url, VHOST)
    database_url = arguments.functions_database_url
    django_environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchsite.settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH_DIR), os.environ.get("PYTHONPATH")])),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "TESSERA_BENCH_DATABASE_URL": database_url,
        "TESSERA_BENCH_STATIC_ROOT": str(workdir / "static"),
        "TESSERA_BENCH_MEDIA_ROOT": str(workdir / "media"),
        "CELERY_BROKER_URL": broker_url,
        # No processing service in this run: paid orders' invoice jobs stay in the outbox
        # (their submissions fail fast), and never reach one someone else runs on 8001.
        "PROCESSING_API_URL": f"http://127.0.0.1:{free_port()}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return Run(
        workdir=workdir,
        broker_url=broker_url,
        database_url=database_url,
        carrier_secret=standard_webhook_secret_generate(),
        django_environment=django_environment,
    )


def functions_environment(run: Run, *, bind: str, arguments: argparse.Namespace) -> dict[str, str]:
    return {
        **os.environ,
        "WEBHOOKS_BIND": bind,
        "WEBHOOKS_BROKER_URL": run.broker_url,
        "WEBHOOKS_WORKERS": str(arguments.gunicorn_workers),
        "WEBHOOKS_THREADS": str(arguments.gunicorn_threads),
        "PAYMENT_WEBHOOK_SECRETS": PAYMENT_SECRET,
        "CARRIER_WEBHOOK_SECRETS": run.carrier_secret,
    }


def queues_purge(broker_url: str) -> None:
    """Empty the inbox and task queues of the bench vhost (declared if missing)."""
    from kombu import Connection, Exchange, Queue
    from tessera_contract.messaging import MONOLITH_TASK_QUEUE, WEBHOOK_QUEUE

    webhooks = Exchange(WEBHOOK_QUEUE, type="direct", durable=True)
    tasks = Exchange(MONOLITH_TASK_QUEUE, type="direct")
    queues = [
        Queue(WEBHOOK_QUEUE, webhooks, routing_key=WEBHOOK_QUEUE, durable=True),
        Queue(MONOLITH_TASK_QUEUE, tasks, routing_key=MONOLITH_TASK_QUEUE, durable=True),
    ]
    with Connection(broker_url) as connection:
        for queue in queues:
            bound = queue(connection.channel())
            bound.declare()
            bound.purge()


@contextmanager
def process_running(
    name: str, argv: list[str], environment: dict[str, str], run: Run
) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess in a session of its own, logged to the work folder, always stopped."""
    from bench import server

    log_path = run.workdir / f"{name}.log"
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
    from bench import server

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
    from bench import server

    try:
        return server.http_get(port, path, timeout_s=2.0).status
    except OSError:
        return None


# --------------------------------------------------------------------------- (a) ingestion


def signed_payment_request() -> tuple[bytes, dict[str, str]]:
    """One payment_intent.succeeded event and its Stripe-Signature header, as the sandbox signs."""
    from tessera_contract.signing import StripeSignatureSigner
    from tessera_sandbox.events import Checkout, payment_event_body

    checkout = Checkout(payment_reference="pay_bench_ingestion", amount_minor=1000, currency="EUR")
    body = payment_event_body(checkout, outcome="succeeded", event_id="evt_bench_ingestion")
    header = StripeSignatureSigner([PAYMENT_SECRET]).header(body)
    return body, {"Content-Type": "application/json", "Stripe-Signature": header}


def lua_post_script(folder: Path, body: bytes, headers: dict[str, str]) -> Path:
    """The loadgen's reporting script, preceded by the POST every request sends."""
    from bench import loadgen

    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body.decode())}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    path = folder / "post.lua"
    path.write_text("\n".join(lines) + "\n" + loadgen.LUA_SCRIPT, encoding="utf-8")
    return path


def gunicorn_argv(app: str, *, port: int, arguments: argparse.Namespace) -> list[str]:
    """The functions' own server configuration (serve.py: gthread), for both targets."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        f"--bind=127.0.0.1:{port}",
        f"--workers={arguments.gunicorn_workers}",
        f"--threads={arguments.gunicorn_threads}",
        "--worker-class=gthread",
        "--error-logfile=-",
        "--log-level=warning",
    ]


INGESTION_TARGETS = {
    "bare WSGI app (202)": "bench.functions:bare_application",
    "webhook functions": "tessera_functions.wsgi:application",
}


def ingestion_measure(arguments: argparse.Namespace, run: Run, wrk: str) -> dict[str, Any]:
    """Each target measured in rounds, the two alternating, and compared by their medians.

    The two run one after the other for 10 s each, on a machine whose neighbours come and
    go: single pairs measured the bare app at 5,330 and at 12,936 requests/s the same hour,
    moving the ratio from 0.23 to 0.55.
    """
    from bench import loadgen

    settings = loadgen.load_settings_from(arguments)
    rounds = max(arguments.ingestion_rounds, 1)
    measured: dict[str, list[dict[str, Any]]] = {label: [] for label in INGESTION_TARGETS}
    for number in range(1, rounds + 1):
        for label, app in INGESTION_TARGETS.items():
            measured[label].append(
                _ingestion_once(arguments, run, wrk, label=f"{label}, round {number}", app=app)
            )
    results = {
        label: {
            # The round of median throughput stands for the target; every round is kept.
            **sorted(runs, key=lambda result: result["requests_per_second"])[len(runs) // 2],
            "rounds_requests_per_second": [result["requests_per_second"] for result in runs],
        }
        for label, runs in measured.items()
    }
    bare, functions = results["bare WSGI app (202)"], results["webhook functions"]
    return {
        "targets": results,
        "rounds": rounds,
        "ratio_events_per_second": round(
            functions["requests_per_second"] / bare["requests_per_second"], 3
        ),
        "ratio_ack_p50": round(functions["ack_ms"]["p50"] / bare["ack_ms"]["p50"], 1),
        "ratio_ack_p99": round(functions["ack_ms"]["p99"] / bare["ack_ms"]["p99"], 1),
        "load": {
            "duration_s": settings.duration_s,
            "warmup_s": settings.warmup_s,
            "threads": settings.threads,
            "connections": settings.connections,
        },
    }


def _ingestion_once(
    arguments: argparse.Namespace, run: Run, wrk: str, *, label: str, app: str
) -> dict[str, Any]:
    """One target under gunicorn, warmed up, then measured by wrk."""
    from bench import loadgen, server

    settings = loadgen.load_settings_from(arguments)
    port = server.free_port()
    environment = functions_environment(run, bind=f"127.0.0.1:{port}", arguments=arguments)
    environment["PYTHONPATH"] = str(REPO_ROOT)
    argv = gunicorn_argv(app, port=port, arguments=arguments)
    with (
        phase(f"ingestion: {label}"),
        process_running(f"ingestion-{port}", argv, environment, run) as process,
    ):
        wait_for(
            lambda: http_status(port, "/healthz") in {200, 202},
            timeout_s=30,
            what=f"{label} answering",
            process=process,
            log=run.workdir / f"ingestion-{port}.log",
        )
        # Signed just before use: the signature's 5-minute tolerance covers the run.
        body, headers = signed_payment_request()
        script = lua_post_script(run.workdir, body, headers)
        url = f"http://127.0.0.1:{port}/webhooks/payments"
        if settings.warmup_s:
            loadgen.wrk_run(
                wrk=wrk, script=script, url=url, duration_s=settings.warmup_s, settings=settings
            )
        result = loadgen.wrk_run(
            wrk=wrk, script=script, url=url, duration_s=settings.duration_s, settings=settings
        )
    queues_purge(run.broker_url)
    if result.failures:
        raise BenchmarkFailure(
            f"{label}: {result.non_2xx} non-2xx answers, socket errors {result.socket_errors}"
        )
    print(
        f"    {result.requests_per_second:,.0f} events/s, ack p50 "
        f"{result.latency_ms['p50']:.2f} ms, p99 {result.latency_ms['p99']:.2f} ms",
        flush=True,
    )
    return {
        "requests": result.requests,
        "requests_per_second": round(result.requests_per_second, 1),
        "ack_ms": {k: round(v, 2) for k, v in result.latency_ms.items()},
    }


# ------------------------------------------------------------------- (b) burst: bench/burst.py

# --------------------------------------------------------------------------- (c), (d) Lambda

COLD_RUNNER = """
import json, sys, time
started = time.perf_counter()
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from handler import lambda_handler
imported = time.perf_counter()
answer = lambda_handler(json.loads(sys.argv[3]), None)
served = time.perf_counter()
print(json.dumps({"status": answer["statusCode"], "import_ms": (imported - started) * 1000,
                  "total_ms": (served - started) * 1000}))
"""

TRIVIAL_APP = '''"""A trivial WSGI application: the cold-start baseline."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"status": "ok"}']
'''


def healthz_event() -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) GET /healthz on the $default stage."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/healthz",
        "rawQueryString": "",
        "headers": {"host": "id.execute-api.eu-west-1.amazonaws.com"},
        "requestContext": {
            "http": {"method": "GET", "path": "/healthz", "protocol": "HTTP/1.1",
                     "sourceIp": "198.51.100.7", "userAgent": "tessera-bench"},
            "requestId": "bench", "routeKey": "$default", "stage": "$default",
        },
        "isBase64Encoded": False,
    }  # fmt: skip


def lambda_zip_build(run: Run) -> Path:
    output = run.workdir / "functions-lambda.zip"
    subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "functions" / "scripts" / "package_lambda.py"),
            f"--output={output}",
            f"--build-dir={run.workdir / 'lambda-build'}",
        ],
        check=True,
        capture_output=True,
    )
    return output


def lambda_folders(archive: Path, run: Run) -> tuple[Path, Path, Path]:
    """(webhook app code, trivial app code, runtime packages), unpacked as Lambda would."""
    webhook = Path(tempfile.mkdtemp(prefix="task-", dir="/tmp"))
    with zipfile.ZipFile(archive) as unpacked:
        unpacked.extractall(webhook)
    trivial = Path(tempfile.mkdtemp(prefix="task-", dir="/tmp"))
    shutil.rmtree(trivial)
    shutil.copytree(webhook, trivial, symlinks=True)
    (trivial / "bench_trivial_app.py").write_text(TRIVIAL_APP)
    settings_file = trivial / "zappa_settings.py"
    text = settings_file.read_text()
    text = text.replace("APP_MODULE='tessera_functions.wsgi'", "APP_MODULE='bench_trivial_app'")
    if "APP_MODULE='bench_trivial_app'" not in text:
        raise BenchmarkFailure("zappa_settings.py in the zip names no tessera_functions.wsgi")
    settings_file.write_text(text)
    # What Lambda's python3.11 runtime provides besides the function's code (one list, shared
    # with the tests that drive the zips).
    from tessera_testsupport.zappa_lambda import LAMBDA_RUNTIME_PACKAGES

    runtime = run.workdir / "lambda-runtime"
    runtime.mkdir(exist_ok=True)
    site_packages = Path(next(p for p in sys.path if p.endswith("site-packages")))
    for name in LAMBDA_RUNTIME_PACKAGES:
        (runtime / name).symlink_to(site_packages / name)
    return webhook, trivial, runtime


def cold_start_once(code: Path, runtime: Path, run: Run) -> dict[str, float]:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "WEBHOOKS_BROKER_URL": run.broker_url,
        "PAYMENT_WEBHOOK_SECRETS": PAYMENT_SECRET,
        "CARRIER_WEBHOOK_SECRETS": run.carrier_secret,
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    started = time.perf_counter()
    completed = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            COLD_RUNNER,
            str(code),
            str(runtime),
            json.dumps(healthz_event()),
        ],
        env=environment,
        cwd=code,
        capture_output=True,
        text=True,
        check=False,
    )
    wall_ms = (time.perf_counter() - started) * 1000
    if completed.returncode != 0:
        raise BenchmarkFailure(f"cold start failed:\n{completed.stderr[-3000:]}")
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    if measured["status"] != 200:
        raise BenchmarkFailure(f"cold start answered {measured['status']}")
    return {
        "import_ms": measured["import_ms"],
        "total_ms": measured["total_ms"],
        "wall_ms": wall_ms,
    }


def lambda_measure(arguments: argparse.Namespace, run: Run) -> dict[str, Any]:
    with phase("Lambda zip: package_lambda.py"):
        archive = lambda_zip_build(run)
    size = archive.stat().st_size
    print(f"    {size:,} bytes", flush=True)
    webhook, trivial, runtime = lambda_folders(archive, run)
    samples: dict[str, list[dict[str, float]]] = {"webhook app": [], "trivial WSGI app": []}
    try:
        with phase(f"cold start: {arguments.cold_starts} fresh interpreters per app"):
            # Alternated, so a slower moment of the machine hits both alike.
            for _ in range(arguments.cold_starts):
                samples["webhook app"].append(cold_start_once(webhook, runtime, run))
                samples["trivial WSGI app"].append(cold_start_once(trivial, runtime, run))
    finally:
        shutil.rmtree(webhook, ignore_errors=True)
        shutil.rmtree(trivial, ignore_errors=True)
    medians = {
        app: {key: round(statistics.median(s[key] for s in runs), 1) for key in runs[0]}
        for app, runs in samples.items()
    }
    return {
        "zip_bytes": size,
        "zip_budget_bytes": 15 * 1024 * 1024,
        "cold_start_median_ms": medians,
        "cold_start_ratio": round(
            medians["webhook app"]["total_ms"] / medians["trivial WSGI app"]["total_ms"], 2
        ),
        "repetitions": arguments.cold_starts,
    }


# --------------------------------------------------------------------------- report


def software_versions() -> dict[str, str]:
    from bench import machine

    return machine.package_versions("gunicorn", "kombu", "celery", "zappa", "django")


def rabbitmq_version() -> str:
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        return "unknown"
    completed = subprocess.run(
        [rabbitmqctl, "version"], capture_output=True, text=True, timeout=60, check=False
    )
    return completed.stdout.strip() or "unknown"


def markdown_render(report: dict[str, Any]) -> str:
    from bench import burst as burst_bench

    machine, software = report["machine"], report["software"]
    ingestion, burst, lam = report["ingestion"], report["burst"], report["lambda"]
    bare = ingestion["targets"]["bare WSGI app (202)"]
    functions = ingestion["targets"]["webhook functions"]
    load = ingestion["load"]
    webhook_cold = lam["cold_start_median_ms"]["webhook app"]
    trivial_cold = lam["cold_start_median_ms"]["trivial WSGI app"]

    def row(label: str, target: dict[str, Any]) -> str:
        ack = target["ack_ms"]
        rounds = target.get("rounds_requests_per_second", [target["requests_per_second"]])
        return (
            f"| {label} | {target['requests_per_second']:,.0f} | "
            + ", ".join(f"{rate:,.0f}" for rate in rounds)
            + f" | {ack['p50']:.2f} | {ack['p99']:.2f} |"
        )

    lines = [
        "# Webhook functions benchmark",
        "",
        f"Measured {machine['date']} on {machine['cores']} cores ({machine['cpu']}; "
        f"{machine['memory_gib']} GiB; load average {machine['load_average_before']} before the "
        f"run), Python {machine['python']}, gunicorn {software['gunicorn']}, kombu "
        f"{software['kombu']}, Celery {software['celery']}, Zappa {software['zappa']}, "
        f"RabbitMQ {software['rabbitmq']}, PostgreSQL {software['postgresql']}, "
        f"{software['wrk']}. Written by `bench/run.py --only functions`; the raw figures are in "
        f"[functions.json](functions.json).",
        "",
        "## Ingestion: functions vs a bare WSGI app",
        "",
        "| target (same gunicorn, gthread) | events/s, median | each round | ack p50 (ms) | "
        "ack p99 (ms) |",
        "|---|---:|---:|---:|---:|",
        row("bare WSGI app, answers 202", bare),
        row("webhook functions (verify, validate, confirmed publish)", functions),
        f"| **ratio** functions ÷ bare | **{ingestion['ratio_events_per_second']:.3f}** | | "
        f"{ingestion['ratio_ack_p50']}× | {ingestion['ratio_ack_p99']}× |",
        "",
        f"Each target is measured {ingestion.get('rounds', 1)} times, the two in turn; the "
        "median round stands for it (its latencies too), and the ratio compares the medians.",
        "",
        *burst_bench.markdown_lines(burst),
        "## Lambda package and cold start",
        "",
        f"- Zip built by `functions/scripts/package_lambda.py`: **{lam['zip_bytes']:,} bytes "
        f"({lam['zip_bytes'] / 1024 / 1024:.2f} MiB)**, budget 15 MiB.",
        "",
        "| Zappa handler serving GET /healthz, fresh interpreter (median of "
        f"{lam['repetitions']}) | import Zappa's handler (ms) | until answered (ms) | "
        "process wall time (ms) |",
        "|---|---:|---:|---:|",
        f"| webhook app | {webhook_cold['import_ms']} | {webhook_cold['total_ms']} | "
        f"{webhook_cold['wall_ms']} |",
        f"| trivial WSGI app | {trivial_cold['import_ms']} | {trivial_cold['total_ms']} | "
        f"{trivial_cold['wall_ms']} |",
        f"| **ratio** | | **{lam['cold_start_ratio']}×** | |",
        "",
        "## Method",
        "",
        f"(a) Both targets run under the same gunicorn command ({report['gunicorn']['workers']} "
        f"gthread workers × {report['gunicorn']['threads']} threads, the functions' own "
        f"`serve.py` configuration) on 127.0.0.1, one after the other. wrk ({load['threads']} "
        f"threads, {load['connections']} keep-alive connections) POSTs one Stripe-signed "
        f"`payment_intent.succeeded` event to `/webhooks/payments`, warms up for "
        f"{load['warmup_s']} s and measures {load['duration_s']} s; any non-2xx answer fails "
        "the run. The functions verify the signature, validate the event against the "
        f"contract and publish the envelope to RabbitMQ (vhost `{VHOST}`) with publisher "
        "confirms before answering 202; the bare app reads the body and answers 202. The "
        "queue is purged after each target; no consumer runs during (a).",
        "",
        "Where the time goes in (a) (profiled on 2026-12-04 on the same 2-core machine while "
        "other work ran on it, hence ranges: py-spy on a worker; per request, the workers' "
        "CPU and run-queue wait from `/proc/<pid>/task/*/schedstat` and RabbitMQ's CPU from "
        "its `beam.smp`; bare app, functions and variants alternated in the same rounds, 8 "
        "connections). The function's own work is small: verifying, validating and building "
        "the envelope takes 15 µs per request in one thread, and with the publish replaced by "
        "a no-op the functions answer 5,100–7,600 events/s (0.5–0.9× the bare app in the same "
        "rounds). The rest is the confirmed publish: about 290 µs more of the worker's CPU "
        "per request (Python threads handing the request and the confirm to each other, the "
        "GIL, the AMQP frames: 7–11 context switches per request against 2.5–4.5 for the bare "
        "app) and 250–330 µs of RabbitMQ's CPU per persistent message, which it writes and "
        "fsyncs before confirming (0.8 ms for one confirm on an idle connection, 0.12 ms for "
        "a transient message; 2 ms for a batch of eight). In all about 0.8 ms of CPU per "
        "event against 0.16 ms for the bare app, on two cores shared by wrk, both workers and "
        "the broker, and each request waits for its confirm: transient messages, same code, "
        "reach only 2,400–2,650 events/s. Pipelining the publishes of a process's requests on "
        "one shared connection (one `basic.ack` settling several) was tried: 230–270 µs of "
        "RabbitMQ's CPU per message instead of 300–350 and 10–15 % less worker CPU, but the "
        "ratio stayed within the same range (0.15–0.28) on this loaded machine, for a "
        "hand-written confirm loop of about 450 lines; it was not kept. On 2026-12-05, on an "
        "idle machine, a bare kombu loop (16 threads, a connection each, the functions' "
        "confirmed persistent publish of a 1.1 KB body, nothing else running) sent 7,600–8,900 "
        "messages/s, for 73–78 µs of its own CPU and 93–100 µs of RabbitMQ's per message; the "
        "same loop to a classic queue of version 2 (`x-queue-version`, new in RabbitMQ 3.10) "
        "was slower, 5,600–5,900 messages/s and 128–136 µs of RabbitMQ's CPU, so the queue "
        "stays as declared. The publish itself is thus cheaper than the 290 µs it adds to a "
        "gunicorn thread: most of the difference is the threads of a gthread worker taking "
        "turns on the GIL while each waits for its confirm. Reaching 0.5× would take a server "
        "that does not park a thread per confirm (an event loop, or confirms batched across "
        "requests) and cores not shared with the broker, not the function's code.",
        "",
        f"(b) For each run the PostgreSQL database `{report['burst_database']}` is recreated "
        "and migrated, and one pending order with its payment is bulk-inserted per checkout. "
        f"The sandbox's burst mode (`python -m tessera_sandbox burst`, "
        f"{report['burst_concurrency']} concurrent senders, 10 % duplicates, 10 % refunds sent "
        "before their payment, fixed seed) sends them through the functions server (the same "
        "`serve.py` configuration) to RabbitMQ, where the monolith's Celery workers (2 pool "
        "processes each) take the envelopes in batches (`INBOX_BATCH_SIZE`, 100): each batch is "
        "recorded, applied and acknowledged after its last commit. The drain "
        "runs queue the whole burst first and then start the workers (each worker count "
        f"{report['burst_rounds']} times, the counts alternating); the live run sends while "
        "the workers apply. Every run fails unless every unique event is recorded once and "
        "applied, no order is paid twice, and every order ends paid or refunded as sent. Lag is "
        "the inbox row's `applied_at` (set in the transaction that updates the order) minus "
        "the envelope's `received_at` (stamped by the function on receipt); refunds that "
        "arrive before their payment wait, parked, for it, which the payment-only figures "
        "leave out; the applied rate is the applied events over the time from the first to "
        "the last application. Paying an order also writes its invoice job to the processing "
        "outbox, and the batch queues one submission task for all of its jobs; no processing "
        "service runs here (`SERVICE_TOKEN_KEYS` unset, `PROCESSING_API_URL` a closed port), "
        "so each submission fails without a network call.",
        "",
        "(d) The zip is unpacked to a shallow folder (as Lambda's `/var/task`); each "
        "repetition starts `python -I -S` with only that folder and the runtime's boto3 on "
        "`sys.path`, imports Zappa's `handler` and calls `lambda_handler` with one HTTP API "
        "(v2) event for `GET /healthz`. The baseline is the same unpacked zip with "
        "`zappa_settings.APP_MODULE` pointed at a trivial WSGI function, so the ratio isolates "
        "what the webhook application adds to a cold start; the two alternate. Times are "
        "measured inside the interpreter (from before the import to the answer; Zappa's "
        "handler imports the application on the first call, so the application's import is "
        "in the second column only); the process "
        "wall time adds interpreter start-up and exit. Zappa's own handler module (werkzeug "
        "among its imports) is in both.",
        "",
        "wrk, gunicorn, RabbitMQ, PostgreSQL, the sender and the worker share the machine's "
        "cores, so compare absolute figures only within one machine and ratios across machines.",
        "",
    ]
    return "\n".join(lines)


def index_update(output_dir: Path) -> Path | None:
    from bench.index import index_row_add

    row = (
        "| [Webhook functions](functions.md) ([JSON](functions.json), [chart](functions.png)) "
        "| Ingestion vs a bare WSGI app; a 20,000-event burst end to end (lost, applied rate, "
        "lag over time), drained by 1 and 2 workers; Lambda zip; cold start vs a trivial app |"
    )
    return index_row_add(output_dir, page="functions.md", row=row)


def run(arguments: argparse.Namespace) -> None:
    """Run (a)–(d) and write docs/benchmarks/functions.json and .md."""
    from bench import burst as burst_bench
    from bench import loadgen, machine, postgres

    described = machine.machine_describe()
    wrk = loadgen.wrk_ensure()
    output_dir = Path(arguments.output_dir)
    with tempfile.TemporaryDirectory(prefix="tessera-bench-functions-") as folder:
        run_ = run_prepare(arguments, Path(folder))
        try:
            ingestion = ingestion_measure(arguments, run_, wrk)
            burst = burst_bench.burst_measure(arguments, run_)
            lam = lambda_measure(arguments, run_)
        except BaseException:
            for log in sorted(Path(folder).glob("*.log")):
                print(f"--- {log.name} (end)\n{log.read_text(errors='replace')[-2000:]}")
            raise
        software = {
            **software_versions(),
            "wrk": loadgen.wrk_version(wrk),
            "rabbitmq": rabbitmq_version(),
            "postgresql": postgres.server_version(run_.database_url),
        }
    report = {
        "benchmark": NAME,
        "machine": described,
        "software": software,
        "gunicorn": {"workers": arguments.gunicorn_workers, "threads": arguments.gunicorn_threads},
        "burst_database": postgres.database_name(arguments.functions_database_url),
        "burst_concurrency": arguments.burst_concurrency,
        "burst_rounds": max(arguments.burst_rounds, 1),
        "ingestion": ingestion,
        "burst": burst,
        "lambda": lam,
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    written = [output_dir / f"{NAME}.json", output_dir / f"{NAME}.md"]
    written.append(burst_bench.chart_write(burst, output_dir / burst_bench.CHART_NAME))
    written[0].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    written[1].write_text(markdown_render(report))
    if index := index_update(output_dir):
        written.append(index)
    print()
    print(
        f"ingestion ratio {ingestion['ratio_events_per_second']}; burst lost "
        f"{burst['live']['lost']}, applied {burst['live']['applied_events_per_second']}/s, lag "
        f"p50 {burst['live']['lag_s']['p50']} s p95 {burst['live']['lag_s']['p95']} s; scale-out "
        f"{burst['scale_out']}; zip "
        f"{lam['zip_bytes']:,} B; cold start ratio {lam['cold_start_ratio']}"
    )
    for path in written:
        print(f"    wrote {path}")
