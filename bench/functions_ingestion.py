"""(a) of the functions benchmark: webhook ingestion against a bare WSGI app.

wrk POSTs one correctly signed payment event to the functions (verify, validate, publish to
RabbitMQ with publisher confirms, 202) and to a bare WSGI app that reads the body and answers
202, both under the same gunicorn configuration, in rounds, the two alternating.

Only the standard library and bench modules made of it are imported at module level: gunicorn
imports this module to serve `bare_application`, the baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import loadgen, server
from bench.processes import http_status, process_running, wait_for
from bench.progress import BenchmarkFailure, phase
from bench.webhooks import Run, functions_environment, queues_purge, signed_payment_request

# bench/functions.py's NAME: the benchmark its progress lines name.
BENCHMARK = "functions"
REPO_ROOT = Path(__file__).resolve().parents[1]


def bare_application(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The baseline: read the body, as the functions do, and answer 202."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    body = b'{"status": "queued"}'
    start_response(
        "202 Accepted",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def lua_post_script(folder: Path, body: bytes, headers: dict[str, str]) -> Path:
    """The loadgen's reporting script, preceded by the POST every request sends."""
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
    "bare WSGI app (202)": "bench.functions_ingestion:bare_application",
    "webhook functions": "tessera_functions.wsgi:application",
}


def ingestion_measure(arguments: argparse.Namespace, run: Run, wrk: str) -> dict[str, Any]:
    """Each target measured in rounds, the two alternating, and compared by their medians.

    The two run one after the other for 10 s each, on a machine whose neighbours come and
    go: single pairs measured the bare app at 5,330 and at 12,936 requests/s the same hour,
    moving the ratio from 0.23 to 0.55.
    """
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
    settings = loadgen.load_settings_from(arguments)
    port = server.free_port()
    environment = functions_environment(run, bind=f"127.0.0.1:{port}", arguments=arguments)
    environment["PYTHONPATH"] = str(REPO_ROOT)
    argv = gunicorn_argv(app, port=port, arguments=arguments)
    with (
        phase(BENCHMARK, f"ingestion: {label}"),
        process_running(f"ingestion-{port}", argv, environment, workdir=run.workdir) as process,
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
